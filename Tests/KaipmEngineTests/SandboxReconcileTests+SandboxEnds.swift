import Foundation
import KaipmCore
import KaipmEngine
import KaipmRegistry
import KaipmSandbox
import Testing

/// How the sandbox ends reach the audit log: once each, before the restart, and not at all for a
/// stop kaipm made itself (its `stop` entry says so).
extension SandboxReconcileTests {
    @Test func aSandboxEndIsAuditedOnceEvenWhileItsRestartWaitsAndKaipmsOwnStopIsNot() throws {
        let host = try Host(backoffBase: 3)
        _ = try host.apply()
        let registry = try host.repo.registry()
        func entries(after seq: Int64) throws -> [AuditEntry] {
            try registry.audit(plugin: "notes").filter { ($0.seq ?? 0) > seq }.reversed()
        }
        let status = try host.status()
        kill(status.supervisorPID, SIGKILL)
        #expect(waitUntil(timeout: 3) { !SupervisorStatus.supervisorAlive(host.layout) })

        // The restart waits out its backoff; the end is audited now, once.
        var seq = try registry.audit(limit: 1).first?.seq ?? 0
        let held = try host.apply()
        #expect(held.plan.actions.isEmpty && held.plan.deferred?.first?.kind == "CrashLoop")
        let died = try entries(after: seq)
        #expect(died.map(\.action) == ["sandbox-exit"])
        #expect(died.first?.runID == held.runID)
        #expect(died.first?.detail.contains(#""reason":"SupervisorDied""#) == true, "\(died.first?.detail ?? "")")
        #expect(died.first?.detail.contains("pid \(status.supervisorPID)") == true, "\(died.first?.detail ?? "")")
        #expect(died.first?.detail.contains(#""session":"\#(status.startedAtMilliseconds)""#) == true)
        seq = try registry.audit(limit: 1).first?.seq ?? 0
        _ = try host.apply()
        #expect(try entries(after: seq).isEmpty)

        let until = try #require(held.plan.deferred?.first?.until)
        Thread.sleep(forTimeInterval: max(0, until - Date().timeIntervalSince1970) + 0.2)
        let restarted = try host.apply()
        #expect(restarted.plan.steps == ["restart notes"])
        #expect(try entries(after: seq).map(\.action) == ["restart"])

        // Deactivated: kaipm stops it, and the end it leaves behind is not audited again.
        try host.repo.writeExampleEntry("notes", active: false)
        try host.repo.commit("deactivate notes")
        seq = try registry.audit(limit: 1).first?.seq ?? 0
        #expect(try host.apply().plan.steps == ["stop notes", "deactivate notes"])
        #expect(try host.status().exit?.reason == "Unloaded")
        #expect(try entries(after: seq).map(\.action) == ["stop", "deactivate"])
        seq = try registry.audit(limit: 1).first?.seq ?? 0
        #expect(try host.apply().outcome == "no-op")
        #expect(try entries(after: seq).isEmpty)
        #expect(try HostInspector(root: host.repo.hostRoot).verify(full: false).isIntact)
    }
}
