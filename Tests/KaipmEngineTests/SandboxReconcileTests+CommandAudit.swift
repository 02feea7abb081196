import Foundation
import KaipmCore
import KaipmEngine
import KaipmRegistry
import KaipmSandbox
import Testing

/// `kaipm run` leaves one audit entry per command. In the sandbox suite (serialized): its tests
/// run the same `notes` plugin, whose cgroup is named after it.
extension SandboxReconcileTests {
    /// The detail of the newest `command` entry of notes, decoded.
    static func lastCommand(_ host: Host) throws -> (entry: AuditEntry, detail: [String: Any]) {
        let entry = try #require(try host.repo.registry().audit(plugin: "notes").first { $0.action == "command" })
        let detail = try #require(try JSONSerialization.jsonObject(with: Data(entry.detail.utf8)) as? [String: Any])
        return (entry, detail)
    }

    @Test func kaipmRunAuditsEachCommandWithArgumentKeysNotValues() throws {
        let host = try Host()
        _ = try host.apply()
        let root = host.repo.hostRoot
        let before = try host.repo.auditCount()

        let added = try host.repo.kaipm(["run", "notes", "add", "--arg", "text=the vault code is 4711", "--actor", "alice",
                                         "--root", root], plain: true)
        #expect(added.status == 0, "\(added)")
        var (entry, detail) = try Self.lastCommand(host)
        #expect(entry.actor == "alice")
        #expect(entry.runID == nil)
        #expect(detail["command"] as? String == "add")
        #expect(detail["args"] as? [String] == ["text"])
        #expect(detail["outcome"] as? String == "ok")
        #expect(detail["code"] == nil)
        #expect(!entry.detail.contains("4711"), "\(entry.detail)")

        let failed = try host.repo.kaipm(["run", "notes", "nope", "--root", root], plain: true)
        #expect(failed.status == 1, "\(failed)")
        (entry, detail) = try Self.lastCommand(host)
        #expect(detail["outcome"] as? String == "failed")
        #expect(detail["code"] as? String == "CommandFailed")
        #expect((detail["message"] as? String)?.contains("ValueError: unknown command 'nope'") == true, "\(entry.detail)")
        // The default actor names the user at the host.
        #expect(entry.actor.contains("@"), "\(entry.actor)")

        // Nothing answers: the attempt is recorded too.
        let stopped = try host.repo.kaipm(["run", "ghost", "hello", "--root", root], plain: true)
        #expect(stopped.status == 1)
        let ghost = try #require(try host.repo.registry().audit(plugin: "ghost").first)
        #expect(ghost.action == "command" && ghost.detail.contains(#""outcome":"unreachable""#), "\(ghost.detail)")
        #expect(ghost.detail.contains(#""code":"NotRunning""#), "\(ghost.detail)")

        #expect(try host.repo.auditCount() == before + 3)
        #expect(try HostInspector(root: root).verify(full: false).isIntact)
        let shown = try host.repo.kaipm(["audit", "--plugin", "notes", "--limit", "2"])
        #expect(shown.stdout.contains("alice  command  notes"), "\(shown)")
    }

    @Test func kaipmRunWaitsForAnApplyHoldingTheRegistry() throws {
        let host = try Host()
        _ = try host.apply()
        // A writer holding the registry as an apply's action does, for a second and a half.
        let holder = try Shell.start("/usr/bin/python3", ["-c", """
            import sqlite3, sys, time
            db = sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None)
            db.execute("BEGIN IMMEDIATE")
            print("locked", flush=True)
            time.sleep(1.5)
            db.execute("COMMIT")
            """, host.repo.layout.registry], scratch: host.repo.base)
        defer { _ = holder.wait() }
        #expect(waitUntil(timeout: 5) { ((try? String(contentsOfFile: holder.stdoutPath, encoding: .utf8)) ?? "").contains("locked") })
        let start = Date()
        let counted = try host.repo.kaipm(["run", "notes", "count", "--root", host.repo.hostRoot], plain: true)
        #expect(counted.status == 0, "\(counted)")
        #expect(counted.stdout == "count: 0\n")
        #expect(!counted.stderr.contains("warning"), "\(counted)")
        #expect(Date().timeIntervalSince(start) > 0.5)
        #expect(try Self.lastCommand(host).detail["outcome"] as? String == "ok")
    }

    @Test func kaipmRunOnAReadOnlyRegistryStillAnswersAndWarns() throws {
        let host = try Host()
        _ = try host.apply()
        let before = try host.repo.auditCount()
        let database = (host.repo.layout.registry as NSString).deletingLastPathComponent
        // The registry's folder mounted read-only, in a mount namespace of its own.
        let result = try Shell.run("/usr/bin/unshare", ["--mount", "--propagation", "private", "/bin/sh", "-c",
                                                        #"mount --bind -o ro "$1" "$1" && exec "$2" run notes count --root "$3""#,
                                                        "sh", database, try KaipmBinary.require(), host.repo.hostRoot],
                                   scratch: host.repo.base)
        try #require(!result.stderr.contains("mount:"), "cannot mount here: \(result)")
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout == "count: 0\n", "\(result)")
        #expect(result.stderr.contains("the command was not recorded in the audit log"), "\(result)")
        #expect(try host.repo.auditCount() == before)
    }
}
