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

        func run() throws {
            printOut(name.text)
        }
    }
}
