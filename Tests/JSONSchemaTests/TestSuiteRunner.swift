import Foundation
import JSONSchema

/// Runs files of the official JSON-Schema-Test-Suite and counts results.
struct TestSuiteRunner {
    /// The result of running a set of files.
    struct Outcome {
        var passed = 0
        var failed = 0
        var failures: [String] = []
    }

    /// `../shared/testdata/JSON-Schema-Test-Suite`, relative to the package root.
    static let suiteRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("../shared/testdata/JSON-Schema-Test-Suite").standardizedFileURL

    /// Serves `remotes/` in place of `http://localhost:1234/`.
    static let resolver = DirectorySchemaResolver(baseURI: "http://localhost:1234/",
                                                  directory: suiteRoot.appendingPathComponent("remotes"))

    /// The `.json` files directly in `tests/<draft>/<subdirectory>`, sorted.
    static func files(draft: String, subdirectory: String = "") -> [URL] {
        let dir = suiteRoot.appendingPathComponent("tests/\(draft)/\(subdirectory)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted().map { dir.appendingPathComponent($0) }
    }

    /// Whether the suite has tests for `draft`.
    static func hasDraft(_ draft: String) -> Bool {
        FileManager.default.fileExists(atPath: suiteRoot.appendingPathComponent("tests/\(draft)").path)
    }

    /// Runs every case in `files`, compiling each schema once.
    static func run(_ files: [URL], draft: SchemaDraft, formatAssertion: Bool) -> Outcome {
        var outcome = Outcome()
        for file in files {
            guard let data = FileManager.default.contents(atPath: file.path), let groups = try? JSONValue.parse(data).arrayValue else {
                outcome.failed += 1
                outcome.failures.append("\(file.lastPathComponent): cannot read or parse")
                continue
            }
            for group in groups {
                let description = group["description"]?.stringValue ?? "?"
                let tests = group["tests"]?.arrayValue ?? []
                let options = SchemaOptions(formatAssertion: formatAssertion, defaultDraft: draft, resolver: resolver)
                let schema: JSONSchema
                do {
                    schema = try JSONSchema.compile(group["schema"] ?? .null, options: options)
                } catch {
                    outcome.failed += tests.count
                    outcome.failures.append("\(file.lastPathComponent) / \(description): compile error \(error)")
                    continue
                }
                for test in tests {
                    let expected = test["valid"]?.boolValue ?? true
                    let data = test["data"] ?? .null
                    let result = schema.validate(data)
                    let quick = schema.isValid(data)
                    if result.isValid == expected && quick == expected {
                        outcome.passed += 1
                    } else {
                        outcome.failed += 1
                        let detail = result.errors.map(\.description).joined(separator: " | ")
                        outcome.failures.append(
                            "\(file.lastPathComponent) / \(description) / \(test["description"]?.stringValue ?? "?"): expected \(expected), validate \(result.isValid), isValid \(quick) \(detail)")
                    }
                }
            }
        }
        return outcome
    }

    /// Prints the summary line (and failures) for a set of cases.
    static func report(_ label: String, _ outcome: Outcome, showFailures: Int = 40) {
        print("JSON-Schema-Test-Suite \(label): \(outcome.passed) passed, \(outcome.failed) failed")
        for failure in outcome.failures.prefix(showFailures) { print("  FAIL \(failure)") }
    }
}
