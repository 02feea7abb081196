import Foundation
import JSONSchema
import Testing

/// Runs files of the official JSON-Schema-Test-Suite and counts results.
struct TestSuiteRunner {
    /// The result of running a set of files.
    struct Outcome {
        var passed = 0
        var failed = 0
        var failures: [String] = []
    }

    /// A draft folder of one copy of the suite, run with one dialect as the default.
    struct Target: Sendable, CustomTestStringConvertible {
        /// The folder under `tests/`, e.g. `draft7`.
        let draft: String
        /// The dialect used for schemas without `$schema`.
        let dialect: SchemaDraft
        /// The suite root holding `tests/` and `remotes/`.
        let root: URL

        var testDescription: String { root == TestSuiteRunner.suiteRoot ? draft : "\(draft) at \(root.path)" }

        /// The label of the summary line: the draft folder alone, so lines read the same whichever root ran.
        var label: String { draft }

        /// Serves `remotes/` of this root (then of the shared copy) in place of `http://localhost:1234/`.
        var resolver: any SchemaResolver {
            let own = TestSuiteRunner.remotesResolver(root: root)
            return root == TestSuiteRunner.suiteRoot ? own : ChainedSchemaResolver([own, TestSuiteRunner.resolver])
        }

        /// The `.json` files directly in `tests/<draft>/<subdirectory>`, sorted.
        func files(subdirectory: String = "") -> [URL] { TestSuiteRunner.files(root: root, draft: draft, subdirectory: subdirectory) }
    }

    /// `../shared/testdata/JSON-Schema-Test-Suite`, relative to the package root.
    static let suiteRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("../shared/testdata/JSON-Schema-Test-Suite").standardizedFileURL

    /// The environment variable naming another suite root whose draft-07 tests are run too.
    static let suiteRootVariable = "KAIPM_JSON_SCHEMA_SUITE"

    /// Serves `remotes/` in place of `http://localhost:1234/`.
    static let resolver = remotesResolver(root: suiteRoot)

    /// Serves `root/remotes/` in place of `http://localhost:1234/`.
    static func remotesResolver(root: URL) -> DirectorySchemaResolver {
        DirectorySchemaResolver(baseURI: "http://localhost:1234/", directory: root.appendingPathComponent("remotes"))
    }

    /// 2020-12 from the shared copy; draft-07 from the shared copy and from `$KAIPM_JSON_SCHEMA_SUITE`, where present.
    static var targets: [Target] {
        var targets = [Target(draft: "draft2020-12", dialect: .draft2020_12, root: suiteRoot)]
        var draft7Roots = [suiteRoot]
        if let path = ProcessInfo.processInfo.environment[suiteRootVariable], !path.isEmpty {
            let root = URL(fileURLWithPath: path).standardizedFileURL
            if root != suiteRoot { draft7Roots.append(root) }
        }
        for root in draft7Roots where hasDraft("draft7", root: root) {
            targets.append(Target(draft: "draft7", dialect: .draft7, root: root))
        }
        return targets
    }

    /// The `.json` files directly in `tests/<draft>/<subdirectory>` of `root`, sorted.
    static func files(root: URL = suiteRoot, draft: String, subdirectory: String = "") -> [URL] {
        let dir = root.appendingPathComponent("tests/\(draft)/\(subdirectory)")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted().map { dir.appendingPathComponent($0) }
    }

    /// Whether the suite at `root` has tests for `draft`.
    static func hasDraft(_ draft: String, root: URL = suiteRoot) -> Bool {
        FileManager.default.fileExists(atPath: root.appendingPathComponent("tests/\(draft)").path)
    }

    /// Runs every case in `files`, compiling each schema once.
    static func run(_ files: [URL], draft: SchemaDraft, formatAssertion: Bool,
                    resolver: any SchemaResolver = TestSuiteRunner.resolver) -> Outcome
    {
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

    /// Prints the summary line (and failures) for a set of cases, in one write so parallel tests do not interleave.
    static func report(_ label: String, _ outcome: Outcome, root: URL = suiteRoot, showFailures: Int = 40) {
        var lines = ["JSON-Schema-Test-Suite \(label): \(outcome.passed) passed, \(outcome.failed) failed"]
        if root != suiteRoot { lines.append("  (suite root \(root.path))") }
        lines += outcome.failures.prefix(showFailures).map { "  FAIL \($0)" }
        print(lines.joined(separator: "\n"))
    }
}
