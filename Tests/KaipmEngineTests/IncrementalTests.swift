import Foundation
import KaipmCore
import KaipmEngine
import Logging
import Synchronization
import Testing

/// The incremental reconcile re-reads only the plugins whose entry, config file or source changed
/// (and their dependents) since the host converged. It must plan exactly what the full reconcile
/// plans, whatever the commit changed: each step below plans both ways and compares whole plans.
@Suite("Incremental reconcile")
struct IncrementalTests {
    /// Debug messages of the engine, to tell which way a plan was made.
    final class Messages: Sendable {
        let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
        func clear() { lines.withLock { $0 = [] } }
    }

    struct Capture: LogHandler {
        let messages: Messages
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let extra = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            messages.lines.withLock { $0.append("\(event.message) \(extra)") }
        }
    }

    func reconciler(_ repo: TestRepo, incremental: Bool, messages: Messages) -> Reconciler {
        var options = repo.reconciler().options
        options.incremental = incremental
        options.logger = Logger(label: "test", factory: { _ in Capture(messages: messages) })
        return Reconciler(options: options)
    }

    @Test("plans of a sequence of commits are the same made incrementally and in full")
    func incrementalPlansEqualFullPlans() throws {
        let repo = try TestRepo()
        for id in ["p1", "p2", "p3", "p4", "p5", "p6"] { try repo.generatePlugin(id) }
        try repo.writeEntry("p1", version: "1.0.0")
        try repo.writeEntry("p2", version: "1.0.0", dependsOn: ["p1"])
        try repo.writeEntry("p3", version: "1.0.0", dependsOn: ["p2"])
        try repo.writeEntry("p4", version: "1.0.0")
        try repo.writeEntry("p5", version: "1.0.0", dependsOn: ["p4"])
        try repo.writeEntry("p6", version: "1.0.0", extra: "suspend: true\n")
        try repo.write("desired-state/config/plugins/p1.config.yaml", "size: 2\n")
        try repo.write("desired-state/hosts/\(repo.host).yaml", "apiVersion: kaipm/v1\nkind: Host\nlabels: {role: test}\n")
        try repo.commit("six plugins")

        let messages = Messages()
        let full = reconciler(repo, incremental: false, messages: Messages())
        let incremental = reconciler(repo, incremental: true, messages: messages)

        /// Commits, plans both ways, compares, applies incrementally, and checks the host converged.
        /// Returns whether the incremental way was taken and the plan's steps.
        func step(_ message: String, _ change: () throws -> Void) throws -> (incremental: Bool, steps: [String]) {
            try change()
            try repo.commit(message)
            messages.clear()
            let expected = try full.plan()
            let planned = try incremental.plan()
            #expect(planned == expected, "\(message): the incremental plan differs from the full plan")
            let report = try incremental.apply()
            #expect(report.failures.isEmpty, "\(message): \(report.failures)")
            #expect(report.plan.actions == expected.actions, "\(message)")
            #expect(try full.plan().actions.isEmpty, "\(message): not converged after the apply")
            let took = messages.all.contains { $0.hasPrefix("incremental plan") }
            return (took, expected.steps)
        }

        _ = try incremental.apply()
        #expect(try full.plan().actions.isEmpty)

        var result = try step("p3 1.1.0") {
            try repo.replace("examples/plugins/p3/plugin.json", "\"1.0.0\"", with: "\"1.1.0\"")
            try repo.replace("desired-state/plugins/p3.yaml", "version: 1.0.0", with: "version: 1.1.0")
        }
        #expect(result.incremental)
        #expect(result.steps == ["update p3"])

        result = try step("p1 config") { try repo.write("desired-state/config/plugins/p1.config.yaml", "size: 3\n") }
        #expect(result.incremental)
        #expect(result.steps == ["configure p1"])

        result = try step("an unrelated file") { try repo.write("README.md", "notes\n") }
        #expect(result.incremental)
        #expect(result.steps.isEmpty)

        result = try step("p4's source changes without a new version") {
            try repo.write("examples/plugins/p4/main.py", "def main():\n    return 'changed'\n")
        }
        #expect(result.incremental)
        #expect(result.steps.count == 1)

        result = try step("p7 depends on p4") {
            try repo.generatePlugin("p7")
            try repo.writeEntry("p7", version: "1.0.0", dependsOn: ["p4"])
        }
        #expect(result.incremental)
        #expect(result.steps == ["install p7", "configure p7", "activate p7"])

        result = try step("p5 removed") { try repo.remove("desired-state/plugins/p5.yaml") }
        #expect(result.incremental)
        #expect(result.steps == ["deactivate p5", "remove p5"])

        // p1 turned off: p2 and p3 (active, depending on it) are blocked, in both ways.
        result = try step("p1 inactive") { try repo.replace("desired-state/plugins/p1.yaml", "active: true", with: "active: false") }
        #expect(result.incremental)
        #expect(result.steps == ["deactivate p1"])
        #expect(try incremental.plan().blocked.map(\.plugin) == ["p2", "p3"])

        // The last plan had blocked plugins: the next one is made in full, and unblocks them.
        result = try step("p1 active again") { try repo.replace("desired-state/plugins/p1.yaml", "active: false", with: "active: true") }
        #expect(!result.incremental)
        #expect(result.steps == ["activate p1"])

        result = try step("p8 depends on a plugin that does not exist") {
            try repo.generatePlugin("p8")
            try repo.writeEntry("p8", version: "1.0.0", dependsOn: ["ghost"])
        }
        #expect(result.incremental)
        #expect(result.steps.isEmpty)

        result = try step("ghost appears") {
            try repo.generatePlugin("ghost")
            try repo.writeEntry("ghost", version: "1.0.0")
        }
        #expect(!result.incremental)
        #expect(result.steps.contains("install p8"))

        result = try step("p6 resumes") { try repo.replace("desired-state/plugins/p6.yaml", "suspend: true\n", with: "") }
        #expect(result.incremental)
        #expect(result.steps == ["install p6", "configure p6", "activate p6"])

        // The host's own file is read by every plugin: a change there is planned in full.
        result = try step("host override") {
            try repo.write("desired-state/hosts/\(repo.host).yaml",
                           "apiVersion: kaipm/v1\nkind: Host\nlabels: {role: test}\nplugins:\n  p7: {active: false}\n")
        }
        #expect(!result.incremental)
        #expect(result.steps == ["deactivate p7"])

        // A config file without an entry is a warning only a full load gives.
        result = try step("orphan config") { try repo.write("desired-state/config/plugins/nobody.config.yaml", "size: 1\n") }
        #expect(!result.incremental)

        result = try step("orphan gone, p2 1.0.1 with a dependency cycle p2 → p3 → p2") {
            try repo.remove("desired-state/config/plugins/nobody.config.yaml")
            try repo.writeEntry("p2", version: "1.0.0", dependsOn: ["p1", "p3"])
        }
        #expect(!result.incremental)
        #expect(try incremental.plan().blocked.map(\.plugin) == ["p2", "p3"])
    }
}
