import Foundation
#if canImport(Glibc)
import Glibc
#endif
import KaipmCore
import KaipmEngine
import KaipmRegistry
import Testing

/// The real `kaipm` binary against real git repositories and host roots.
@Suite("kaipm command line")
struct CLITests {
    /// A repository with notes and my-plugin committed and the host converged to it.
    static func converged() throws -> TestRepo {
        let repo = try TestRepo(examples: ["notes", "my-plugin"])
        try repo.writeExampleEntry("notes")
        try repo.writeExampleEntry("my-plugin")
        try repo.write("desired-state/config/plugins/my-plugin.config.yaml", "greeting: Hello from kAI\n")
        try repo.commit("notes and my-plugin")
        let applied = try repo.kaipm(["apply"])
        guard applied.status == 0 else { throw SupportError("the first apply failed: \(applied)") }
        return repo
    }

    @Test("a user who cannot write the registry is told to run kaipm as its owner")
    func anotherUserIsToldWhoseRegistryItIs() throws {
        guard getuid() == 0 else { return }
        let repo = try Self.converged()
        let status = try Shell.run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", try KaipmBinary.require(),
                                                        "status", "--root", repo.hostRoot], scratch: repo.base)
        #expect(status.status == 1, "\(status)")
        #expect(status.stderr.contains("not writable by uid 65534; run kaipm as the user that owns the host root"), "\(status)")
    }

    @Test("plan --detailed-exitcode: 0 when converged, 2 with a pending change, 1 on error")
    func detailedExitCode() throws {
        let repo = try Self.converged()
        let clean = try repo.kaipm(["plan", "--detailed-exitcode"])
        #expect(clean.status == 0, "\(clean)")
        #expect(clean.stdout.contains("No changes"))
        let noop = try repo.kaipm(["apply"])
        #expect(noop.status == 0, "\(noop)")
        #expect(try repo.registry().runs(limit: 1).first?.outcome == "no-op")

        try repo.write("desired-state/config/plugins/notes.config.yaml", "maxNotes: 42\n")
        try repo.commit("fewer notes")
        let pending = try repo.kaipm(["plan", "--detailed-exitcode"])
        #expect(pending.status == 2, "\(pending)")
        #expect(pending.stdout.contains("configure  notes"))
        #expect(pending.stdout.contains("config.maxNotes: 1000 → 42"))

        let broken = try repo.kaipm(["plan", "--detailed-exitcode", "--rev", "no-such-branch"])
        #expect(broken.status == 1, "\(broken)")
        #expect(broken.stderr.contains("no-such-branch"), "the error names the revision it could not resolve")
        let missingRepo = try repo.kaipm(["plan", "--detailed-exitcode", "--repo", repo.base + "/nowhere"])
        #expect(missingRepo.status == 1, "\(missingRepo)")
    }

    // MARK: Tampering

    struct Tamper: Sendable, CustomTestStringConvertible {
        var name: String
        /// Changes the converged host behind kaipm's back.
        var act: @Sendable (TestRepo, _ storeEntry: String) throws -> Void
        /// The action `plan` must show for my-plugin, and a fragment of its reason.
        var action: ActionKind
        var reason: String
        /// A fragment of what `kaipm verify` prints.
        var verify: String
        var testDescription: String { name }
    }

    static let tampers: [Tamper] = [
        Tamper(name: "a store file edited", act: { _, entry in
            let file = entry + "/main.py"
            chmod(file, 0o644)
            guard let handle = FileHandle(forWritingAtPath: file) else { throw SupportError("cannot open \(file)") }
            handle.seekToEndOfFile()
            handle.write(Data("\nimport os; os.system('curl evil')\n".utf8))
            handle.closeFile()
            chmod(file, 0o444)
        }, action: .repair, reason: "store:", verify: "my-plugin: store:"),
        Tamper(name: "the version in plugin.json edited in the store entry", act: { _, entry in
            let file = entry + "/plugin.json"
            chmod(file, 0o644)
            let text = try String(contentsOfFile: file, encoding: .utf8)
            try text.replacingOccurrences(of: "\"version\": \"1.0.0\"", with: "\"version\": \"6.6.6\"")
                .write(toFile: file, atomically: false, encoding: .utf8)
            chmod(file, 0o444)
        }, action: .repair, reason: "store:", verify: "my-plugin: store:"),
        Tamper(name: "a file added to the store entry", act: { _, entry in
            chmod(entry, 0o755)
            try Data("payload".utf8).write(to: URL(fileURLWithPath: entry + "/extra.py"))
            chmod(entry + "/extra.py", 0o444)
            chmod(entry, 0o555)
        }, action: .repair, reason: "store:", verify: "my-plugin: store:"),
        Tamper(name: "a file deleted from the store entry", act: { _, entry in
            chmod(entry + "/hooks", 0o755)
            try FileManager.default.removeItem(atPath: entry + "/hooks/onLoad.py")
            chmod(entry + "/hooks", 0o555)
        }, action: .repair, reason: "store:", verify: "my-plugin: store:"),
        Tamper(name: "the whole store entry deleted", act: { _, entry in
            forceRemove(entry)
        }, action: .repair, reason: "store:", verify: "my-plugin: store:"),
        Tamper(name: "a registry row edited by hand", act: { repo, _ in
            try repo.sql("UPDATE registered_plugins SET version = '9.9.9' WHERE id = 'my-plugin'")
        }, action: .repair, reason: "registry: the row was edited outside kaipm", verify: "my-plugin: registry: the row was edited outside kaipm"),
        Tamper(name: "the rendered config file edited", act: { repo, _ in
            try Data("greeting: \"pwned\"\nshout: true\n".utf8).write(to: URL(fileURLWithPath: repo.layout.configFile("my-plugin")))
        }, action: .configure, reason: "config file was edited out of band", verify: "my-plugin: config:"),
        Tamper(name: "the rendered config file deleted", act: { repo, _ in
            try FileManager.default.removeItem(atPath: repo.layout.configFile("my-plugin"))
        }, action: .configure, reason: "config file is missing", verify: "is missing"),
    ]

    @Test("tampering shows in plan and verify, and apply repairs it", arguments: tampers)
    func tamperingIsRepaired(_ tamper: Tamper) throws {
        let repo = try Self.converged()
        let before = try #require(try repo.rows()["my-plugin"])
        let hash = try #require(TreeHash(before.checksum))
        let configBefore = try String(contentsOfFile: repo.layout.configFile("my-plugin"), encoding: .utf8)
        #expect(try repo.kaipm(["verify", "--full"]).status == 0)

        try tamper.act(repo, repo.layout.store + "/" + hash.hex)

        let plan = try repo.reconciler().plan()
        let action = try #require(plan.action(tamper.action, "my-plugin"), "plan: \(plan.steps)")
        #expect(action.reason.contains(tamper.reason), "reason: \(action.reason)")
        #expect(plan.steps.allSatisfy { $0.hasSuffix(" my-plugin") }, "only the tampered plugin is touched: \(plan.steps)")
        let detailed = try repo.kaipm(["plan", "--detailed-exitcode"])
        #expect(detailed.status == 2, "\(detailed)")

        let verify = try repo.kaipm(["verify"])
        #expect(verify.status == 1, "\(verify)")
        #expect(verify.stdout.contains(tamper.verify), "\(verify)")

        let apply = try repo.kaipm(["apply"])
        #expect(apply.status == 0, "\(apply)")
        let full = try repo.kaipm(["verify", "--full"])
        #expect(full.status == 0, "\(full)")
        let after = try #require(try repo.rows()["my-plugin"])
        #expect(after.checksum == before.checksum)
        #expect(after.version == "1.0.0")
        #expect(after.isActive)
        #expect(try String(contentsOfFile: repo.layout.configFile("my-plugin"), encoding: .utf8) == configBefore)
        #expect(try repo.registry().verifyAuditChain().isEmpty)
        let last = try #require(try repo.registry().audit(plugin: "my-plugin", limit: 1).first)
        #expect(last.action == tamper.action.rawValue, "the repair is audited")
        #expect(try repo.kaipm(["plan", "--detailed-exitcode"]).status == 0)
    }

    @Test("an edited audit entry breaks the chain and verify names it")
    func auditTamperingIsDetected() throws {
        let repo = try Self.converged()
        // The append-only triggers stop accidents; someone with the file drops them first.
        try repo.sql("DROP TRIGGER audit_log_no_update")
        try repo.sql("DROP TRIGGER audit_log_no_delete")
        try repo.sql("UPDATE audit_log SET actor = 'someone else' WHERE seq = 2")
        let verify = try repo.kaipm(["verify"])
        #expect(verify.status == 1, "\(verify)")
        #expect(verify.stdout.contains("audit log: audit entry 2 was edited"), "\(verify)")
        try repo.sql("DELETE FROM audit_log WHERE seq = 3")
        let again = try repo.kaipm(["verify"])
        #expect(again.stdout.contains("missing"), "\(again)")
    }

    // MARK: Saved plans

    @Test("a saved plan applies exactly")
    func savedPlanApplies() throws {
        let repo = try Self.converged()
        try repo.write("desired-state/config/plugins/notes.config.yaml", "maxNotes: 7\n")
        try repo.replace("desired-state/plugins/my-plugin.yaml", "active: true", with: "active: false")
        try repo.commit("reviewed change")
        let file = repo.base + "/p.json"
        let planned = try repo.kaipm(["plan", "--out", file])
        #expect(planned.status == 0, "\(planned)")
        let saved = try JSONDecoder().decode(Plan.self, from: Data(contentsOf: URL(fileURLWithPath: file)))
        #expect(saved.steps == ["deactivate my-plugin", "configure notes"])

        let applied = try repo.kaipm(["apply", file, "--format", "json"])
        #expect(applied.status == 0, "\(applied)")
        let run = try #require(try repo.registry().runs(limit: 1).first)
        #expect(run.outcome == "applied")
        let recorded = try JSONDecoder().decode(Plan.self, from: Data((run.planJSON ?? "").utf8))
        #expect(recorded.actions == saved.actions)
        #expect(try repo.rows()["my-plugin"]?.isActive == false)
        #expect(try String(contentsOfFile: repo.layout.configFile("notes"), encoding: .utf8) == "maxNotes: 7\n")
        #expect(try repo.kaipm(["plan", "--detailed-exitcode"]).status == 0)
    }

    struct Staleness: Sendable, CustomTestStringConvertible {
        var name: String
        var move: @Sendable (TestRepo) throws -> Void
        var message: String
        var testDescription: String { name }
    }

    static let stale: [Staleness] = [
        Staleness(name: "a new commit moved HEAD", move: { repo in
            try repo.write("desired-state/config/plugins/notes.config.yaml", "maxNotes: 8\n")
            try repo.commit("another change after review")
        }, message: "it was made at revision"),
        Staleness(name: "another apply changed the host", move: { repo in
            let other = try repo.kaipm(["apply"])
            guard other.status == 0 else { throw SupportError("\(other)") }
        }, message: "the host's registry, store or config files changed"),
        Staleness(name: "a store file was tampered with", move: { repo in
            guard let row = try repo.rows()["my-plugin"] else { throw SupportError("my-plugin is not installed") }
            let file = row.path + "/main.py"
            chmod(file, 0o644)
            try Data("tampered\n".utf8).write(to: URL(fileURLWithPath: file))
            chmod(file, 0o444)
        }, message: "the host's registry, store or config files changed"),
    ]

    @Test("a saved plan is refused when the revision or the host moved", arguments: stale)
    func stalePlanIsRefused(_ staleness: Staleness) throws {
        let repo = try Self.converged()
        try repo.write("desired-state/config/plugins/notes.config.yaml", "maxNotes: 7\n")
        try repo.commit("reviewed change")
        let file = repo.base + "/p.json"
        #expect(try repo.kaipm(["plan", "--out", file]).status == 0)
        let audit = try repo.auditCount()
        let rows = try repo.rows()
        let runs = try repo.registry().runs().count

        try staleness.move(repo)
        let moved = (audit: try repo.auditCount(), rows: try repo.rows())

        let refused = try repo.kaipm(["apply", file])
        #expect(refused.status == 1, "\(refused)")
        #expect(refused.stderr.contains("stale"), "\(refused)")
        #expect(refused.stderr.contains(staleness.message), "\(refused)")
        #expect(try repo.auditCount() == moved.audit, "a refused plan changes nothing")
        #expect(try repo.rows() == moved.rows)
        _ = (audit, rows, runs)
    }
}
