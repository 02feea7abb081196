import Foundation
import KaipmCore
import KaipmEngine
import KaipmRegistry
import Testing

/// A plugin's whole life through the engine API, one commit per step: install, new version, new
/// config, deactivate, remove. Each step checks the plan, applies it and checks what the host has.
@Suite("Lifecycle through the Reconciler")
struct LifecycleTests {
    @Test("install → version change → config change → deactivate → remove converges at each step")
    func pluginLifecycle() throws {
        let repo = try TestRepo(examples: ["core-logger", "my-plugin"])
        try repo.writeExampleEntry("core-logger")
        try repo.writeExampleEntry("my-plugin", dependsOn: ["core-logger"])
        try repo.write("desired-state/config/plugins/my-plugin.config.yaml", "greeting: Hello from kAI\n")
        let first = try repo.commit("install core-logger and my-plugin")
        let reconciler = repo.reconciler()
        var auditSeen = 0

        /// The audit entries appended since the previous step, oldest first, as `action plugin`.
        func newAudit() throws -> [String] {
            let all = try repo.registry().audit(limit: 10_000).reversed()
            let fresh = all.dropFirst(auditSeen)
            auditSeen = all.count
            return fresh.map { "\($0.action) \($0.pluginID ?? "-")" }
        }

        // 1. Install: dependencies first within each phase.
        var plan = try reconciler.plan()
        #expect(plan.revision == first)
        #expect(plan.steps == ["install core-logger", "install my-plugin", "configure core-logger", "configure my-plugin",
                               "activate core-logger", "activate my-plugin"])
        #expect(plan.action(.install, "my-plugin")?.reason == "new plugin")
        #expect(plan.action(.configure, "my-plugin")?.reason == "initial config")
        #expect(plan.action(.activate, "my-plugin")?.reason == "desired active")
        #expect(plan.action(.configure, "my-plugin")?.changes.contains(
            FieldChange(field: "config.greeting", before: nil, after: "\"Hello from kAI\"")) == true)
        var report = try reconciler.apply()
        #expect(report.outcome == "applied")
        #expect(report.failures.isEmpty)
        var rows = try repo.rows()
        #expect(rows.keys.sorted() == ["core-logger", "my-plugin"])
        let installed = try #require(rows["my-plugin"])
        #expect(installed.isActive)
        #expect(installed.state == "active")
        #expect(installed.version == "1.0.0")
        #expect(installed.revision == first)
        let oldHash = try #require(TreeHash(installed.checksum))
        #expect(installed.path == repo.layout.store + "/" + oldHash.hex)
        #expect(try repo.storeEntries().contains(oldHash.hex))
        #expect(try String(contentsOfFile: repo.layout.configFile("my-plugin"), encoding: .utf8)
                == "greeting: \"Hello from kAI\"\nshout: false\n")
        #expect(try newAudit() == plan.steps)
        #expect(try repo.registry().verifyAuditChain().isEmpty)

        // 2. A new version: plugin.json and the entry change in one commit.
        try repo.replace("examples/plugins/my-plugin/plugin.json", "\"version\": \"1.0.0\"", with: "\"version\": \"1.1.0\"")
        try repo.replace("desired-state/plugins/my-plugin.yaml", "version: 1.0.0", with: "version: 1.1.0")
        let second = try repo.commit("my-plugin 1.1.0")
        plan = try reconciler.plan()
        #expect(plan.steps == ["update my-plugin"])
        let update = try #require(plan.action(.update, "my-plugin"))
        #expect(update.reason == "version 1.0.0 → 1.1.0")
        #expect(update.changes.first == FieldChange(field: "version", before: "1.0.0", after: "1.1.0"))
        #expect(update.changes.contains { $0.field == "checksum" && $0.before == oldHash.value })
        report = try reconciler.apply()
        #expect(report.outcome == "applied")
        rows = try repo.rows()
        let updated = try #require(rows["my-plugin"])
        let newHash = try #require(TreeHash(updated.checksum))
        #expect(newHash != oldHash)
        #expect(updated.version == "1.1.0")
        #expect(updated.isActive, "an update keeps the plugin active")
        #expect(updated.revision == second)
        #expect(updated.installedAt == installed.installedAt)
        #expect(try repo.storeEntries().contains(newHash.hex))
        #expect(try !repo.storeEntries().contains(oldHash.hex), "the old version's store entry is garbage-collected")
        #expect(try newAudit() == ["update my-plugin"])

        // 3. A config change, shown key by key.
        try repo.write("desired-state/config/plugins/my-plugin.config.yaml", "greeting: Hi there\nshout: true\n")
        try repo.commit("louder greeting")
        plan = try reconciler.plan()
        #expect(plan.steps == ["configure my-plugin"])
        let configure = try #require(plan.action(.configure, "my-plugin"))
        #expect(configure.reason == "config changed")
        #expect(configure.changes == [
            FieldChange(field: "config.greeting", before: "\"Hello from kAI\"", after: "\"Hi there\""),
            FieldChange(field: "config.shout", before: "false", after: "true"),
        ])
        report = try reconciler.apply()
        #expect(report.outcome == "applied")
        #expect(try String(contentsOfFile: repo.layout.configFile("my-plugin"), encoding: .utf8)
                == "greeting: \"Hi there\"\nshout: true\n")
        let configured = try #require(try repo.rows()["my-plugin"])
        #expect(configured.configJSON == #"{"greeting":"Hi there","shout":true}"#)
        #expect(try newAudit() == ["configure my-plugin"])

        // 4. Deactivate.
        try repo.replace("desired-state/plugins/my-plugin.yaml", "active: true", with: "active: false")
        try repo.commit("turn my-plugin off")
        plan = try reconciler.plan()
        #expect(plan.steps == ["deactivate my-plugin"])
        #expect(plan.action(.deactivate, "my-plugin")?.reason == "desired inactive")
        report = try reconciler.apply()
        #expect(report.outcome == "applied")
        let inactive = try #require(try repo.rows()["my-plugin"])
        #expect(!inactive.isActive)
        #expect(inactive.state == "inactive")
        #expect(inactive.checksum == newHash.value, "deactivating keeps the install")
        #expect(try repo.rows()["core-logger"]?.isActive == true)
        #expect(try newAudit() == ["deactivate my-plugin"])

        // 5. Remove: the entry (and its config) leave the tree.
        try repo.remove("desired-state/plugins/my-plugin.yaml")
        try repo.remove("desired-state/config/plugins/my-plugin.config.yaml")
        try repo.commit("drop my-plugin")
        plan = try reconciler.plan()
        #expect(plan.steps == ["remove my-plugin"], "an inactive plugin is removed without a deactivate")
        #expect(plan.action(.remove, "my-plugin")?.reason == "no longer desired on this host")
        report = try reconciler.apply()
        #expect(report.outcome == "applied")
        rows = try repo.rows()
        #expect(rows.keys.sorted() == ["core-logger"])
        #expect(!FileManager.default.fileExists(atPath: repo.layout.configFile("my-plugin")))
        #expect(try !repo.storeEntries().contains(newHash.hex), "the removed plugin's store entry is garbage-collected")
        #expect(try repo.storeEntries().count == 1)
        #expect(try newAudit() == ["remove my-plugin"])

        // The whole trail, and the chain over it.
        let registry = try repo.registry()
        #expect(try registry.verifyAuditChain().isEmpty)
        let trail = try registry.audit(plugin: "my-plugin", limit: 100).reversed().map(\.action)
        #expect(trail == ["install", "configure", "activate", "update", "configure", "deactivate", "remove"])
        #expect(try registry.runs().map(\.outcome) == Array(repeating: "applied", count: 5))
        #expect(try HostInspector(root: repo.hostRoot).verify(full: true).problems == [])
    }

    @Test("a second apply is a no-op: no actions, no audit entries, outcome no-op")
    func secondApplyIsNoOp() throws {
        let repo = try TestRepo(examples: ["notes", "my-plugin"])
        try repo.writeExampleEntry("notes")
        try repo.writeExampleEntry("my-plugin")
        try repo.commit("two plugins")
        let reconciler = repo.reconciler()
        #expect(try reconciler.apply().outcome == "applied")
        let audit = try repo.auditCount()
        let rows = try repo.rows()

        let again = try reconciler.apply()
        #expect(again.outcome == "no-op")
        #expect(again.plan.actions.isEmpty)
        #expect(try repo.auditCount() == audit)
        #expect(try repo.rows() == rows, "a no-op writes no row")
        #expect(try repo.registry().runs(limit: 1).first?.outcome == "no-op")
        #expect(try repo.registry().lastAppliedRun()?.outcome == "no-op")
    }
}
