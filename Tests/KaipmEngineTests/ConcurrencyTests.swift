import Foundation
#if canImport(Glibc)
import Glibc
#endif
import KaipmCore
import KaipmEngine
import KaipmRegistry
import Testing

/// A killed apply and two applies at once, with real `kaipm` child processes slowed by the
/// executor's test seam (`KAIPM_TEST_ACTION_DELAY_MS` sleeps after each action).
@Suite("Crash safety and the run lock")
struct ConcurrencyTests {
    static let pluginCount = 8
    static let slow = ["KAIPM_TEST_ACTION_DELAY_MS": "150"]

    /// A repository of `pluginCount` generated plugins (p1 … p8, each depending on the one before
    /// for some ordering), committed; nothing applied.
    static func manyPlugins() throws -> TestRepo {
        let repo = try TestRepo()
        for index in 1...pluginCount {
            let id = "p\(index)"
            try repo.generatePlugin(id, version: "1.\(index).0")
            try repo.writeEntry(id, version: "1.\(index).0", dependsOn: index > 1 && index % 2 == 0 ? ["p\(index - 1)"] : [])
            try repo.write("desired-state/config/plugins/\(id).config.yaml", "size: \(index)\n")
        }
        try repo.commit("\(pluginCount) plugins")
        return repo
    }

    /// Audit entries so far, read with a read-only SQLite connection of another process.
    static func auditRows(_ repo: TestRepo) -> Int {
        guard FileManager.default.fileExists(atPath: repo.layout.registry),
              let text = try? repo.sql("SELECT count(*) FROM audit_log", readOnly: true) else { return 0 }
        return Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    /// Checks that the host converged to every desired plugin with integrity.
    static func expectConverged(_ repo: TestRepo, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        let verify = try repo.kaipm(["verify", "--full"])
        #expect(verify.status == 0, "\(verify)", sourceLocation: sourceLocation)
        let rows = try repo.rows()
        #expect(rows.keys.sorted() == (1...pluginCount).map { "p\($0)" }.sorted(), sourceLocation: sourceLocation)
        for (id, row) in rows {
            #expect(row.isActive, "\(id) is active", sourceLocation: sourceLocation)
            #expect(FileManager.default.fileExists(atPath: repo.layout.configFile(id)), "\(id) has its config",
                    sourceLocation: sourceLocation)
        }
        #expect(repo.storeTemporaries().isEmpty, "no .tmp-* left: \(repo.storeTemporaries())", sourceLocation: sourceLocation)
        #expect(try repo.storeEntries().count == pluginCount, "no unreferenced store entry", sourceLocation: sourceLocation)
        #expect(try repo.registry().verifyAuditChain().isEmpty, sourceLocation: sourceLocation)
        #expect(try repo.kaipm(["plan", "--detailed-exitcode"]).status == 0, sourceLocation: sourceLocation)
    }

    struct KillPoint: Sendable, CustomTestStringConvertible {
        /// Kill once the audit log has at least this many entries (of 24: 8 installs, 8 configures, 8 activates).
        var afterAuditEntries: Int
        var testDescription: String { "killed after \(afterAuditEntries) of 24 actions" }
    }

    @Test("SIGKILL in the middle of apply: the next apply converges", arguments: [
        KillPoint(afterAuditEntries: 2), KillPoint(afterAuditEntries: 11), KillPoint(afterAuditEntries: 19),
    ])
    func killedApplyRecovers(_ point: KillPoint) throws {
        let repo = try Self.manyPlugins()
        let child = try repo.startKaipm(["apply"], env: Self.slow)
        let reached = waitUntil(timeout: 30, interval: 0.03) { Self.auditRows(repo) >= point.afterAuditEntries || !child.isRunning }
        child.kill(SIGKILL)
        let killed = child.wait()
        try #require(reached && killed.signaled, "the apply was killed mid-way: \(killed)")
        let done = Self.auditRows(repo)
        #expect(done >= point.afterAuditEntries && done < 3 * Self.pluginCount, "some but not all actions ran: \(done)")
        #expect(try repo.registry().runs(limit: 1).first?.outcome == "running", "the killed run is left running")

        let again = try repo.kaipm(["apply"])
        #expect(again.status == 0, "\(again)")
        try Self.expectConverged(repo)
        let runs = try repo.registry().runs()
        #expect(runs.map(\.outcome) == ["applied", "interrupted"])
        let history = try repo.kaipm(["history"])
        #expect(history.stdout.contains("interrupted"), "\(history)")
    }

    @Test("a second apply is refused naming the lock holder; with --wait it runs after and is a no-op")
    func concurrentApplies() throws {
        let repo = try Self.manyPlugins()
        let first = try repo.startKaipm(["apply"], env: Self.slow)
        let started = waitUntil(timeout: 30) { Self.auditRows(repo) >= 1 || !first.isRunning }
        try #require(started && first.isRunning, "the first apply is running")

        let clock = Date()
        let refused = try repo.kaipm(["apply"])
        let took = Date().timeIntervalSince(clock)
        #expect(refused.status == 1, "\(refused)")
        #expect(refused.stderr.contains("pid \(first.pid)"), "the message names the holder: \(refused)")
        #expect(refused.stderr.contains("--wait"), "and says how to wait: \(refused)")
        #expect(took < 3, "refused quickly, in \(took) s")
        #expect(first.isRunning, "the refused run did not disturb the first")

        let waited = try repo.kaipm(["apply", "--wait", "30"])
        let firstResult = first.wait()
        #expect(firstResult.status == 0, "\(firstResult)")
        #expect(waited.status == 0, "\(waited)")
        #expect(waited.stdout.contains("No changes"), "the waiting run found nothing to do: \(waited)")
        let runs = try repo.registry().runs()
        #expect(runs.map(\.outcome) == ["no-op", "applied"], "the refused run records no run")
        try Self.expectConverged(repo)
    }

    @Test("a lock file left by a dead process does not block")
    func staleLockFileDoesNotBlock() throws {
        let repo = try TestRepo(examples: ["notes"])
        try repo.writeExampleEntry("notes")
        try repo.commit("notes")
        try repo.layout.create()
        var dead: Int32 = 999_999
        while kill(dead, 0) == 0 || errno != ESRCH { dead -= 1 }
        try "\(dead)\n2020-01-01T00:00:00Z\nkaipm apply (crashed)\n".write(toFile: repo.layout.lockFile, atomically: false, encoding: .utf8)
        let apply = try repo.kaipm(["apply"])
        #expect(apply.status == 0, "\(apply)")
        #expect(try repo.rows()["notes"]?.isActive == true)
    }

    @Test("the lock through the engine API: a held lock refuses a Reconciler apply with the holder")
    func engineLockRefusal() throws {
        let repo = try TestRepo(examples: ["notes"])
        try repo.writeExampleEntry("notes")
        try repo.commit("notes")
        try repo.layout.create()
        let lock = try ReconcileLock(path: repo.layout.lockFile, wait: 0, command: "holder-under-test")
        let error = try #require(throws: EngineError.self) { try repo.reconciler().apply() }
        guard case let .locked(_, holder, _) = error else {
            Issue.record("unexpected error \(error)")
            return
        }
        #expect(holder.contains("pid \(getpid())"))
        #expect(holder.contains("holder-under-test"))
        #expect(error.description.contains("--wait"))
        withExtendedLifetime(lock) {}
        let rows = try repo.rows()
        #expect(rows.isEmpty, "nothing was installed")
    }
}
