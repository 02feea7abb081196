import Foundation
import GRDB
import KaipmCore
import Testing
@testable import KaipmRegistry

@Suite struct RegistryTests {
    func temporaryRegistry() throws -> (Registry, String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kaipm-registry-\(UUID().uuidString)").path
        let registry = try Registry(path: dir + "/db/plugins.sqlite")
        return (registry, dir)
    }

    func row(_ id: String, active: Bool = false) -> RegisteredPlugin {
        RegisteredPlugin(id: id, name: id, path: "/store/x", checksum: "h1:x", isActive: active, version: "1.0.0",
                         source: "path:x", state: "installed", revision: "r1", dependsOn: "[]", configJSON: nil,
                         configHash: nil, installedAt: 1, updatedAt: 1, rowDigest: "")
    }

    func audit(_ action: String) -> AuditDraft { AuditDraft(actor: "test", action: action, detail: "{}", runID: nil) }

    @Test func seedTablesHaveTheSeedColumns() throws {
        let (registry, dir) = try temporaryRegistry()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let columns = try registry.db.read { db in
            (try db.columns(in: "registered_plugins").map(\.name), try db.columns(in: "user_plugins").map(\.name))
        }
        for column in ["id", "name", "path", "checksum", "is_active"] { #expect(columns.0.contains(column)) }
        for column in ["user_id", "plugin_id", "config_blob", "sandbox_id"] { #expect(columns.1.contains(column)) }
        let mode = try registry.db.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
    }

    @Test func writesAreSealedAndAHandEditIsDetected() throws {
        let (registry, dir) = try temporaryRegistry()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try registry.recordPlugin(row("a"), audit: audit("install"))
        var stored = try #require(try registry.plugin("a"))
        #expect(stored.rowDigest == stored.expectedDigest)
        try registry.db.write { db in try db.execute(sql: "UPDATE registered_plugins SET is_active = 1 WHERE id = 'a'") }
        stored = try #require(try registry.plugin("a"))
        #expect(stored.rowDigest != stored.expectedDigest)
    }

    @Test func auditChainDetectsEditsAndDeletions() throws {
        let (registry, dir) = try temporaryRegistry()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for action in ["install", "configure", "activate"] { try registry.recordPlugin(row("a"), audit: audit(action)) }
        #expect(try registry.verifyAuditChain().isEmpty)
        // The triggers refuse ordinary writes...
        #expect(throws: (any Error).self) {
            try registry.db.write { db in try db.execute(sql: "DELETE FROM audit_log WHERE seq = 2") }
        }
        // ...and the chain catches someone who drops them first.
        try registry.db.write { db in
            try db.execute(sql: "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete")
            try db.execute(sql: "UPDATE audit_log SET actor = 'mallory' WHERE seq = 1")
            try db.execute(sql: "DELETE FROM audit_log WHERE seq = 2")
        }
        let problems = try registry.verifyAuditChain()
        #expect(problems.contains("audit entry 1 was edited"))
        #expect(problems.contains { $0.contains("missing") })
    }

    @Test func removingAPluginRemovesItsUserRowsAndConditions() throws {
        let (registry, dir) = try temporaryRegistry()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try registry.recordPlugin(row("a"), audit: audit("install"))
        try registry.setUserPlugin(user: "alice", plugin: "a", enabled: true, configBlob: "{}", audit: audit("user-enable"))
        try registry.setCondition(plugin: "a", type: "Ready", status: "True", reason: "Active", message: "")
        try registry.recordRemoved("a", audit: audit("remove"))
        #expect(try registry.userPlugins().isEmpty)
        #expect(try registry.conditions().isEmpty)
        #expect(try registry.audit(plugin: "a").count == 3)
    }

    @Test func runsLeftRunningAreMarkedInterrupted() throws {
        let (registry, dir) = try temporaryRegistry()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try registry.beginRun(revision: "r1", pinned: true, host: "h", actor: "t")
        try registry.finishRun(first, outcome: "applied", planJSON: "{}", error: nil)
        _ = try registry.beginRun(revision: "r2", pinned: true, host: "h", actor: "t")
        try registry.markInterruptedRuns()
        let runs = try registry.runs()
        #expect(runs.map(\.outcome) == ["interrupted", "applied"])
        #expect(try registry.lastAppliedRun()?.revision == "r1")
    }

    @Test func sandboxReportsAreAuditedWithTheirMarkInOneTransaction() throws {
        let (registry, dir) = try temporaryRegistry()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // No sandbox row: nothing could remember the entries, so none are written.
        #expect(try registry.recordSandboxReports(plugin: "a", audits: [audit("limit")], mark: SandboxAuditMark(session: 1)) == false)
        #expect(try registry.audit().isEmpty)

        _ = try registry.sandboxUID(plugin: "a", first: 1000)
        #expect(try registry.sandboxRecords()["a"]?.audited == SandboxAuditMark())
        let first = SandboxAuditMark().advanced(session: 7, limits: ["pids": 13], exited: false)
        #expect(try registry.recordSandboxReports(plugin: "a", audits: [audit("limit")], mark: first))
        #expect(try registry.sandboxRecords()["a"]?.audited == SandboxAuditMark(session: 7, limits: ["pids": 13]))
        #expect(first.audited("pids", in: 7) == 13)
        #expect(first.audited("pids", in: 8) == 0)
        #expect(first.audited("memory", in: 7) == 0)

        // The same session counts on; its end is marked once audited.
        let second = first.advanced(session: 7, limits: ["memory": 1], exited: true)
        try registry.recordSandboxReports(plugin: "a", audits: [audit("limit"), audit("sandbox-exit")], mark: second)
        let stored = try #require(try registry.sandboxRecords()["a"]?.audited)
        #expect(stored == SandboxAuditMark(session: 7, limits: ["memory": 1, "pids": 13], exitSession: 7))
        // A new session starts its counters again and keeps the end audited before.
        #expect(stored.advanced(session: 9, limits: ["pids": 2], exited: false)
                == SandboxAuditMark(session: 9, limits: ["pids": 2], exitSession: 7))
        #expect(try registry.audit(plugin: "a").map(\.action) == ["sandbox-exit", "limit", "limit"])
        #expect(try registry.verifyAuditChain().isEmpty)
    }

    @Test func conditionTransitionTimeOnlyMovesOnStatusChange() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kaipm-registry-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let time = Clock(start: 100)
        let registry = try Registry(path: dir + "/plugins.sqlite", now: { time.next() })
        try registry.setCondition(plugin: "a", type: "Ready", status: "True", reason: "Active", message: "one")
        let first = try #require(try registry.conditions()["a"]?.first)
        try registry.setCondition(plugin: "a", type: "Ready", status: "True", reason: "Active", message: "two")
        #expect(try registry.conditions()["a"]?.first?.lastTransitionAt == first.lastTransitionAt)
        try registry.setCondition(plugin: "a", type: "Ready", status: "False", reason: "Failed", message: "three")
        #expect(try registry.conditions()["a"]?.first?.lastTransitionAt != first.lastTransitionAt)
    }
}

/// A clock that ticks one second per reading.
final class Clock: @unchecked Sendable {
    // Safe: only read and written under `lock`.
    private var value: Double
    private let lock = NSLock()
    init(start: Double) { value = start }
    func next() -> Double {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}
