import ArgumentParser
import KaipmCore

extension ShippedSchema: ExpressibleByArgument {}

extension Kaipm {
    /// `kaipm schema NAME`: one of the JSON Schemas kaipm ships, for editors.
    struct Schema: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a JSON Schema (2020-12) kaipm ships for the files people write.",
            discussion: """
                Point an editor's YAML language server at the output for completion and inline errors, e.g.
                  kaipm schema plugin-entry > .kaipm/schemas/plugin-entry.json
                Schemas: \(ShippedSchema.allCases.map { "\($0.rawValue) (\($0.files))" }.joined(separator: ", ")).
                'kaipm validate' checks every file against the same schemas.
                """)

        @Argument(help: ArgumentHelp("Which schema: \(ShippedSchema.allCases.map(\.rawValue).joined(separator: ", ")).",
                                     valueName: "name"))
        var name: ShippedSchema

        @Option(help: ArgumentHelp("Declare the schema as 2020-12 or as 07 (the same rules, for editors that know only draft-07).",
                                   valueName: "draft"))
        var draft: Draft = .v2020_12

        /// The `$schema` a printed schema declares.
        enum Draft: String, ExpressibleByArgument, CaseIterable {
            case v2020_12 = "2020-12"
            case v07 = "07"
        }

        func run() throws {
            printOut(draft == .v07 ? name.draft07Text : name.text)
        }
    }
}
