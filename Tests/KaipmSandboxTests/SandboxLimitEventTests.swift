import Foundation
import KaipmSandbox
import Testing

/// The limits a sandbox runs into and lives on, as its supervisor records them in the status file
/// (`limitEvents`) for the reconciler to audit.
@Suite("Sandbox limit events")
struct SandboxLimitEventTests {
    /// Waits until the status file has a limit event of `kind`, reading it as the reconciler does.
    func waitForLimit(_ fixture: SandboxFixture, _ kind: String, timeout: Double = 5) throws -> SupervisorStatus.LimitEvent? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let event = try SupervisorStatus.read(fixture.layout)?.limitEvent(kind) { return event }
            usleep(50_000)
        }
        return nil
    }

    @Test func aForkBombTheSandboxSurvivesIsAPidsLimitEvent() throws {
        let fixture = try SandboxFixture("pidsevent")
        fixture.spec.resources.pids = 16
        try fixture.start()
        #expect(try SupervisorStatus.read(fixture.layout)?.limitEvents == [])
        let result = try fixture.command("forkbomb")
        #expect(result["errno"] == .int(EAGAIN))
        let event = try #require(try waitForLimit(fixture, "pids"))
        #expect(event.count >= 1)
        #expect(event.firstAtMilliseconds <= event.lastAtMilliseconds)
        #expect(event.message.contains("pids.max 16"), "\(event.message)")
        // Alive, and the live status answer carries it too.
        #expect(try fixture.request("status")["limitEvents"]?.arrayValue?.count == 1)
        #expect(try fixture.request("health")["loaded"] == .bool(true))
    }

    @Test func anOOMKilledChildTheSandboxOutlivesIsAMemoryLimitEventNotItsEnd() throws {
        let fixture = try SandboxFixture("oomchild")
        fixture.spec.resources.memoryBytes = 48 << 20
        fixture.spec.limits.addressSpaceBytes = 1 << 30
        try fixture.start()
        #expect(try fixture.command("allocChild", ["mib": .int(128)])["signal"] == .int(Int(SIGKILL)))
        let event = try #require(try waitForLimit(fixture, "memory"))
        #expect(event.count == 1)
        #expect(event.message.contains("lived on"), "\(event.message)")
        #expect(try fixture.request("health")["loaded"] == .bool(true))
        // The plugin exits by itself later: that end is not blamed on the kill it outlived.
        #expect(throws: SandboxError.self) { try fixture.command("exit", ["code": .int(3)]) }
        let status = try fixture.waitForExit()
        #expect(status.exit?.reason == "Crashed", "\(String(describing: status.exit))")
        #expect(status.exit?.code == 3)
        #expect(status.limitEvent("memory")?.count == 1)
    }
}
