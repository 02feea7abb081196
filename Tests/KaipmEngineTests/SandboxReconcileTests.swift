import Foundation
import KaipmCore
import KaipmEngine
import KaipmRegistry
import KaipmSandbox
import Testing

/// The reconciler driving real sandboxes (bubblewrap, kaipm-supervisor) for plugins of real git repos.
@Suite("Reconcile against running sandboxes", .serialized)
struct SandboxReconcileTests {
    /// The supervisor built beside the test bundle (`swift build --build-tests` builds both).
    static let runtime: SandboxRuntime? = {
        if let chosen = ProcessInfo.processInfo.environment["KAIPM_SUPERVISOR"] { return SandboxRuntime(supervisor: chosen) }
        let bundle = URL(fileURLWithPath: CommandLine.arguments.first { $0.contains(".xctest") } ?? Bundle.main.executablePath ?? "")
        var directory = bundle.deletingLastPathComponent()
        for _ in 0..<4 where !FileManager.default.fileExists(atPath: directory.appendingPathComponent("kaipm-supervisor").path) {
            directory = directory.deletingLastPathComponent()
        }
        let supervisor = directory.appendingPathComponent("kaipm-supervisor").path
        guard FileManager.default.isExecutableFile(atPath: supervisor), FileManager.default.isExecutableFile(atPath: "/usr/bin/bwrap")
        else { return nil }
        return SandboxRuntime(supervisor: supervisor)
    }()

    /// A repo with the notes example, active, and its reconciler with sandboxes on.
    final class Host {
        let repo: TestRepo
        let runtime: SandboxRuntime
        /// The crash-loop backoff's base delay in seconds (0: a crashed plugin is restarted at once).
        let backoffBase: Double

        init(maxNotes: Int = 10, backoffBase: Double = 0) throws {
            self.backoffBase = backoffBase
            runtime = try #require(SandboxReconcileTests.runtime, "no kaipm-supervisor beside the tests or no /usr/bin/bwrap")
            repo = try TestRepo(examples: ["notes"])
            try repo.writeExampleEntry("notes")
            try repo.write("desired-state/config/plugins/notes.config.yaml", "maxNotes: \(maxNotes)\n")
            try repo.commit("notes")
        }

        deinit {
            // Stop what a failing test left running (its sandbox dies with its supervisor).
            let layout = SandboxLayout(root: repo.hostRoot, pluginID: "notes")
            if let status = try? SupervisorStatus.read(layout), SupervisorStatus.supervisorAlive(layout) {
                kill(status.supervisorPID, SIGKILL)
                _ = waitUntil(timeout: 3) { !SupervisorStatus.supervisorAlive(layout) }
            }
        }

        var reconciler: Reconciler {
            var options = repo.reconciler(sandboxes: runtime).options
            options.backoff = CrashBackoff(base: backoffBase, cap: 300)
            return Reconciler(options: options)
        }
        var layout: SandboxLayout { SandboxLayout(root: repo.hostRoot, pluginID: "notes") }
        var client: ControlClient { ControlClient(layout: layout) }

        func apply() throws -> ApplyReport {
            let report = try reconciler.apply()
            #expect(report.failures.isEmpty, "\(report.failures)")
            return report
        }

        func command(_ name: String, _ args: [JSON.Member] = []) throws -> JSON {
            try client.request("command", [JSON.Member("command", .string(name)), JSON.Member("args", .object(args))])
        }

        func status() throws -> SupervisorStatus { try #require(try SupervisorStatus.read(layout)) }

        func condition(_ type: String) throws -> PluginCondition? {
            try repo.registry().conditions()["notes"]?.first { $0.type == type }
        }
    }

    @Test func applyStartsTheActivePluginAndItAnswersHealth() throws {
        let host = try Host()
        let report = try host.apply()
        #expect(report.plan.steps == ["install notes", "configure notes", "activate notes", "start notes"])
        #expect(report.plan.action(.start, "notes")?.reason == "not running")
        #expect(try host.client.request("health")["loaded"] == .bool(true))
        let status = try host.status()
        #expect(status.state == .running)
        #expect(status.version == report.plan.action(.install, "notes")?.changes.first { $0.field == "checksum" }?.after)
        let ready = try #require(try host.condition("Ready"))
        #expect(ready.status == "True" && ready.reason == "Running")
        let uid = try #require(try host.repo.registry().sandboxRecords()["notes"]?.uid)
        #expect(uid >= SandboxIdentity.firstUID)
        #expect(try host.repo.registry().audit(plugin: "notes").contains { $0.action == "start" })
        // `kaipm status` shows the pid, uptime, memory in use and the isolation in force.
        let shown = try #require(try HostInspector(root: host.repo.hostRoot).status(sandboxes: host.runtime).plugins.first { $0.id == "notes" })
        #expect(shown.sandbox == "running" && shown.pid == status.sandboxPID && shown.supervisorPID == status.supervisorPID)
        #expect((shown.uptimeSeconds ?? -1) >= 0)
        #expect((shown.memoryBytes ?? 0) > 1 << 20, "\(String(describing: shown.memoryBytes))")
        #expect(shown.isolation == "full, no network", "\(String(describing: shown.isolation))")
        #expect(shown.isolationItems?.contains { $0.limit == "seccomp" && $0.enforced } == true)

        // Nothing changed: the next apply is a no-op and leaves the sandbox alone.
        let again = try host.apply()
        #expect(again.outcome == "no-op")
        #expect(try host.status().supervisorPID == status.supervisorPID)
        #expect(try host.repo.registry().sandboxUID(plugin: "notes", first: SandboxIdentity.firstUID) == uid)
    }

    @Test func deactivatingStopsThePlugin() throws {
        let host = try Host()
        _ = try host.apply()
        #expect(SupervisorStatus.supervisorAlive(host.layout))
        try host.repo.writeExampleEntry("notes", active: false)
        try host.repo.commit("deactivate notes")
        let report = try host.apply()
        #expect(report.plan.steps == ["stop notes", "deactivate notes"])
        #expect(!SupervisorStatus.supervisorAlive(host.layout))
        #expect(try host.status().exit?.reason == "Unloaded")
        #expect(try host.condition("Ready")?.reason == "Inactive")
        #expect(try host.reconciler.plan().actions.isEmpty)
    }

    @Test func aKilledSupervisorIsRestartedByTheNextApply() throws {
        let host = try Host()
        _ = try host.apply()
        let before = try host.status()
        kill(before.supervisorPID, SIGKILL)
        #expect(waitUntil(timeout: 3) { !SupervisorStatus.supervisorAlive(host.layout) })

        let plan = try host.reconciler.plan()
        #expect(plan.steps == ["restart notes"])
        #expect(plan.action(.restart, "notes")?.reason.hasPrefix("dead") == true)
        let report = try host.apply()
        #expect(report.plan.steps == ["restart notes"])
        #expect(try host.client.request("health")["loaded"] == .bool(true))
        #expect(try host.status().supervisorPID != before.supervisorPID)
        #expect(try host.repo.registry().sandboxRecords()["notes"]?.restarts == 1)
        #expect(try host.reconciler.plan().actions.isEmpty)
    }

    @Test func aConfigChangeRestartsWithTheNewConfigAndDataSurvives() throws {
        let host = try Host(maxNotes: 1)
        _ = try host.apply()
        #expect(try host.command("add", [JSON.Member("text", .string("buy milk"))]) == .object([JSON.Member("count", .int(1))]))
        // maxNotes 1: the notebook is full.
        #expect(throws: SandboxError.self) { try host.command("add", [JSON.Member("text", .string("call Ada"))]) }

        try host.repo.write("desired-state/config/plugins/notes.config.yaml", "maxNotes: 5\n")
        try host.repo.commit("more notes")
        let report = try host.apply()
        #expect(report.plan.steps == ["configure notes", "restart notes"])
        #expect(report.plan.action(.restart, "notes")?.reason == "config changed")
        // The new config is in force, and /data kept the note written before the restart.
        #expect(try host.command("add", [JSON.Member("text", .string("call Ada"))]) == .object([JSON.Member("count", .int(2))]))
        #expect(try host.command("list")["notes"] == .array([.string("buy milk"), .string("call Ada")]))
        #expect(try host.status().configHash == report.plan.action(.restart, "notes")?.changes.first { $0.field == "running.configHash" }?.after)
    }

    @Test func aPluginThatFailsOnLoadIsMarkedFailedWithTheLogTail() throws {
        let host = try Host()
        try host.repo.write("examples/plugins/notes/hooks/onLoad.py", "def on_load(ctx):\n    raise RuntimeError('no database configured')\n")
        try host.repo.commit("broken onLoad")
        let report = try host.reconciler.apply()
        #expect(report.outcome == "failed")
        #expect(report.failures.count == 1)
        let ready = try #require(try host.condition("Ready"))
        #expect(ready.status == "False" && ready.reason == "Failed")
        #expect(ready.message.contains("RuntimeError: no database configured"), "\(ready.message)")
        // The start fails as soon as the status says the sandbox is stopping; the supervisor then
        // finishes its stop sequence on its own (under load, after apply returned).
        #expect(waitUntil(timeout: 5) { !SupervisorStatus.supervisorAlive(host.layout) })
    }

    @Test func newPluginContentRestartsOnTheNewVersion() throws {
        let host = try Host()
        _ = try host.apply()
        try host.repo.write("examples/plugins/notes/hooks/onCommand.py",
                            try host.repo.read("examples/plugins/notes/hooks/onCommand.py")
                                .replacingOccurrences(of: "    if command == \"count\":", with: "    if command == \"ping\":\n        return {\"pong\": True}\n    if command == \"count\":"))
        try host.repo.commit("notes answers ping")
        let report = try host.apply()
        #expect(report.plan.steps == ["update notes", "restart notes"])
        #expect(report.plan.action(.restart, "notes")?.reason == "version changed")
        #expect(try host.command("ping") == .object([JSON.Member("pong", .bool(true))]))
        #expect(try host.reconciler.plan().actions.isEmpty)
    }

    @Test func aQuotaChangeRestartsAndRemovingStops() throws {
        let host = try Host()
        _ = try host.apply()
        try host.repo.writeExampleEntry("notes", extra: "resources: {memory: 128Mi}\n")
        try host.repo.commit("less memory")
        let report = try host.apply()
        #expect(report.plan.steps == ["restart notes"])
        #expect(report.plan.action(.restart, "notes")?.reason == "quota changed")
        #expect(try host.client.request("health")["loaded"] == .bool(true))

        try host.repo.remove("desired-state/plugins/notes.yaml")
        try host.repo.remove("desired-state/config/plugins/notes.config.yaml")
        try host.repo.commit("no notes")
        let removed = try host.apply()
        #expect(removed.plan.steps == ["stop notes", "deactivate notes", "remove notes"])
        #expect(!SupervisorStatus.supervisorAlive(host.layout))
    }

    @Test func kaipmRunAndLogsReachTheRunningPlugin() throws {
        let host = try Host()
        _ = try host.apply()
        let root = host.repo.hostRoot
        let added = try host.repo.kaipm(["run", "notes", "add", "--arg", "text=buy milk", "--json", "--root", root], plain: true)
        #expect(added.status == 0, "\(added)")
        #expect(added.stdout == "{\"count\":1}\n")
        let listed = try host.repo.kaipm(["run", "notes", "list", "--root", root], plain: true)
        #expect(listed.stdout == "notes: [\"buy milk\"]\n", "\(listed)")
        let failed = try host.repo.kaipm(["run", "notes", "nope", "--root", root], plain: true)
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("CommandFailed"), "\(failed)")
        let logs = try host.repo.kaipm(["logs", "notes", "--tail", "50", "--root", root], plain: true)
        #expect(logs.status == 0, "\(logs)")
        #expect(logs.stdout.contains("[notes] notes: 0 note(s) in /data/notes.jsonl"), "\(logs)")

        let status = try host.repo.kaipm(["status", "--root", root], env: ["KAIPM_SANDBOXES": "on"], plain: true)
        #expect(status.stdout.contains("Sandboxes: on"), "\(status)")
        #expect(status.stdout.contains("running"), "\(status)")

        // `kaipm logs --follow` prints what the plugin writes from then on: here, a restart's lines.
        let follower = try host.repo.startKaipm(["logs", "notes", "--follow", "--tail", "1", "--root", root])
        Thread.sleep(forTimeInterval: 0.3)
        try host.repo.write("desired-state/config/plugins/notes.config.yaml", "maxNotes: 20\n")
        try host.repo.commit("more notes")
        _ = try host.apply()
        let seen = waitUntil(timeout: 5) {
            ((try? String(contentsOfFile: follower.stdoutPath, encoding: .utf8)) ?? "").contains("[notes] notes: 1 note(s)")
        }
        follower.kill(SIGTERM)
        let followed = follower.wait()
        #expect(seen, "\(followed)")
        #expect(followed.stdout.contains("unload requested") && followed.stdout.contains("started sandbox pid"), "\(followed)")
    }

    @Test func anUpdateThatFailsOnLoadRollsBackToThePreviousVersionStillRunning() throws {
        let host = try Host()
        let first = try host.apply()
        let oldHash = try #require(first.plan.action(.install, "notes")?.changes.first { $0.field == "checksum" }?.after)
        #expect(try host.command("add", [JSON.Member("text", .string("buy milk"))]) == .object([JSON.Member("count", .int(1))]))
        let onLoad = "examples/plugins/notes/hooks/onLoad.py"
        let working = try host.repo.read(onLoad)
        try host.repo.write(onLoad, "def on_load(ctx):\n    raise RuntimeError('no database configured')\n")
        try host.repo.commit("broken onLoad")

        let report = try host.reconciler.apply()
        #expect(report.plan.steps == ["update notes", "restart notes"])
        #expect(report.outcome == "failed")
        let newHash = try #require(report.plan.action(.update, "notes")?.changes.first { $0.field == "checksum" }?.after)
        // The previous version is registered and running again, with its data.
        #expect(try host.repo.rows()["notes"]?.checksum == oldHash)
        #expect(try host.client.request("health")["loaded"] == .bool(true))
        #expect(try host.status().version == oldHash)
        #expect(try host.command("list")["notes"] == .array([.string("buy milk")]))
        let ready = try #require(try host.condition("Ready"))
        #expect(ready.status == "False" && ready.reason == "Failed")
        #expect(ready.message.contains("rolled back"), "\(ready.message)")
        #expect(ready.message.contains("RuntimeError: no database configured"), "\(ready.message)")
        #expect(try host.condition("Installed")?.reason == "RolledBack")
        let audit = try host.repo.registry().audit(plugin: "notes")
        #expect(audit.contains { $0.action == "rollback" && $0.detail.contains(newHash) })
        #expect(audit.contains { $0.action == "update" && $0.detail.contains("failed") })
        let record = try #require(try host.repo.registry().sandboxRecords()["notes"])
        #expect(record.failedTreeHash == newHash)
        // The old store entry was kept for the rollback; the failed one is collected.
        #expect(FileManager.default.fileExists(atPath: try #require(try host.repo.rows()["notes"]?.path)))

        // The same failing revision is not retried: the plan defers it, and apply leaves the old version running.
        let plan = try host.reconciler.plan()
        #expect(plan.actions.isEmpty, "\(plan.steps)")
        let deferred = try #require(plan.deferred?.first)
        #expect(deferred.plugin == "notes" && deferred.kind == "FailedRevision" && deferred.action == .update)
        #expect(deferred.reason.contains("not retried"), "\(deferred.reason)")
        let pid = try host.status().supervisorPID
        let again = try host.apply()
        #expect(again.plan.actions.isEmpty)
        #expect(try host.status().supervisorPID == pid)
        #expect(try host.repo.rows()["notes"]?.checksum == oldHash)

        // A new revision tries again.
        try host.repo.write(onLoad, working + "\n# fixed\n")
        try host.repo.commit("fixed onLoad")
        let fixed = try host.apply()
        #expect(fixed.plan.steps == ["update notes", "restart notes"])
        #expect(try host.condition("Ready")?.reason == "Running")
        #expect(try host.repo.rows()["notes"]?.checksum != oldHash)
        #expect(try host.repo.registry().sandboxRecords()["notes"]?.failedTreeHash == nil)
        #expect(try host.command("list")["notes"] == .array([.string("buy milk")]))
        #expect(try host.reconciler.plan().actions.isEmpty)
    }

    /// `onHealth` is the plugin's own check at start: an update that loads but reports itself
    /// unhealthy is rolled back like one whose onLoad fails.
    @Test func anUpdateThatFailsItsHealthCheckRollsBack() throws {
        let host = try Host()
        let first = try host.apply()
        let oldHash = try #require(first.plan.action(.install, "notes")?.changes.first { $0.field == "checksum" }?.after)
        // The example's own check answers.
        #expect(try host.client.request("health")["check"]?["healthy"] == .bool(true))

        try host.repo.write("examples/plugins/notes/hooks/onHealth.py",
                            "def on_health(ctx):\n    return {\"healthy\": False, \"reason\": \"the notes file is unreadable\"}\n")
        try host.repo.commit("an unhealthy version")
        let report = try host.reconciler.apply()
        #expect(report.plan.steps == ["update notes", "restart notes"])
        #expect(report.outcome == "failed")
        #expect(try host.repo.rows()["notes"]?.checksum == oldHash)
        #expect(try host.status().version == oldHash)
        #expect(try host.client.request("health")["loaded"] == .bool(true))
        let ready = try #require(try host.condition("Ready"))
        #expect(ready.reason == "Failed" && ready.message.contains("rolled back"), "\(ready.message)")
        #expect(ready.message.contains("onHealth: the notes file is unreadable"), "\(ready.message)")
        #expect(try host.repo.registry().audit(plugin: "notes").contains { $0.action == "rollback" })
    }

    @Test func aCrashedPluginIsRestartedAfterAnExponentialBackoff() throws {
        let host = try Host(backoffBase: 3)
        _ = try host.apply()
        kill(try host.status().supervisorPID, SIGKILL)
        #expect(waitUntil(timeout: 3) { !SupervisorStatus.supervisorAlive(host.layout) })

        // Within the backoff, the restart is deferred, with the CrashLoop condition.
        let plan = try host.reconciler.plan()
        #expect(plan.actions.isEmpty, "\(plan.steps)")
        let deferred = try #require(plan.deferred?.first)
        #expect(deferred.plugin == "notes" && deferred.action == .restart && deferred.kind == "CrashLoop")
        #expect(deferred.reason.hasPrefix("dead") && deferred.reason.contains("back-off 3 s"), "\(deferred.reason)")
        #expect(PlanRenderer.text(plan, color: false).contains("⏸ deferred   notes  (restart: dead"), "\(PlanRenderer.text(plan, color: false))")
        let held = try host.apply()
        #expect(held.plan.actions.isEmpty)
        #expect(!SupervisorStatus.supervisorAlive(host.layout))
        let crashLoop = try #require(try host.condition("CrashLoop"))
        #expect(crashLoop.status == "True" && crashLoop.reason == "BackOff")
        #expect(crashLoop.message.contains("next attempt at"), "\(crashLoop.message)")

        // After it, the next reconcile restarts it.
        let until = try #require(deferred.until)
        Thread.sleep(forTimeInterval: max(0, until - Date().timeIntervalSince1970) + 0.2)
        let report = try host.apply()
        #expect(report.plan.steps == ["restart notes"])
        #expect(try host.client.request("health")["loaded"] == .bool(true))
        #expect(try host.repo.registry().sandboxRecords()["notes"]?.failures == 1)
        #expect(try host.condition("CrashLoop")?.status == "False")

        // A second crash backs off twice as long.
        kill(try host.status().supervisorPID, SIGKILL)
        #expect(waitUntil(timeout: 3) { !SupervisorStatus.supervisorAlive(host.layout) })
        let second = try host.reconciler.plan()
        #expect(second.actions.isEmpty)
        #expect(second.deferred?.first?.reason.contains("back-off 6 s") == true, "\(second.deferred ?? [])")

        // A new revision resets the backoff: restarted at once.
        try host.repo.write("desired-state/config/plugins/notes.config.yaml", "maxNotes: 5\n")
        try host.repo.commit("more notes")
        let fresh = try host.apply()
        #expect(fresh.plan.steps == ["configure notes", "restart notes"])
        #expect(fresh.plan.deferred == nil)
        #expect(try host.client.request("health")["loaded"] == .bool(true))
        #expect(try host.repo.registry().sandboxRecords()["notes"]?.failures == 0)
        #expect(try host.condition("CrashLoop") == nil)
    }

    /// Several starts in one apply run at once, but a plugin starts only once the plugins it
    /// depends on are Ready; one that fails to load fails alone, and its dependents are skipped.
    @Test func startsRunConcurrentlyInDependencyOrderAndAFailureStaysLocal() throws {
        let runtime = try #require(Self.runtime, "no kaipm-supervisor beside the tests or no /usr/bin/bwrap")
        let repo = try TestRepo()
        let ids = ["p0", "p1", "p2", "p3", "p4", "p5", "broken", "needs-broken"]
        for id in ids { try repo.generatePlugin(id) }
        try repo.write("examples/plugins/broken/main.py", "raise RuntimeError('broken on purpose')\n")
        let dependencies = ["p4": ["p0"], "p5": ["p4"], "needs-broken": ["broken"]]
        for id in ids { try repo.writeEntry(id, version: "1.0.0", dependsOn: dependencies[id] ?? []) }
        try repo.commit("eight plugins")
        defer {
            for id in ids {
                let layout = SandboxLayout(root: repo.hostRoot, pluginID: id)
                if let status = try? SupervisorStatus.read(layout), SupervisorStatus.supervisorAlive(layout) {
                    kill(status.supervisorPID, SIGKILL)
                }
            }
        }

        let report = try repo.reconciler(sandboxes: runtime).apply()
        #expect(report.failures.count == 1 && report.failures[0].contains("broken"), "\(report.failures)")
        let running = ids.filter { SupervisorStatus.supervisorAlive(SandboxLayout(root: repo.hostRoot, pluginID: $0)) }
        #expect(running == ["p0", "p1", "p2", "p3", "p4", "p5"])
        let conditions = try repo.registry().conditions()
        for id in running {
            #expect(conditions[id]?.first { $0.type == "Ready" }?.reason == "Running", "\(id): \(conditions[id] ?? [])")
        }
        #expect(conditions["broken"]?.first { $0.type == "Ready" }?.reason == "Failed")
        // The dependent of the failed plugin was not started at all.
        #expect(try SupervisorStatus.read(SandboxLayout(root: repo.hostRoot, pluginID: "needs-broken")) == nil)

        // Each dependent's supervisor started after its dependency had loaded.
        func loadedAt(_ id: String) throws -> Double {
            let log = try String(contentsOfFile: SandboxLayout(root: repo.hostRoot, pluginID: id).logFile, encoding: .utf8)
            let line = try #require(log.split(separator: "\n").last { $0.hasSuffix(" loaded") })
            let stamp = String(line.split(separator: " ")[1])
            let format = ISO8601DateFormatter()
            format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            return try #require(format.date(from: stamp)).timeIntervalSince1970 * 1000
        }
        func startedAt(_ id: String) throws -> Double {
            Double(try #require(try SupervisorStatus.read(SandboxLayout(root: repo.hostRoot, pluginID: id))).startedAtMilliseconds)
        }
        #expect(try startedAt("p4") >= loadedAt("p0"))
        #expect(try startedAt("p5") >= loadedAt("p4"))
        // The independent ones overlapped: some started before another had loaded.
        let independent = ["p0", "p1", "p2", "p3"]
        var overlapped = false
        for a in independent {
            let (began, loaded) = (try startedAt(a), try loadedAt(a))
            for b in independent where b != a {
                let other = try startedAt(b)
                if other >= began && other < loaded { overlapped = true }
            }
        }
        #expect(overlapped, "the independent plugins started one after another")
    }

    /// Two kaipm roots on one host may run a plugin of the same id: each keeps its own cgroups,
    /// so starting one never clears the other's group (and kills its sandbox).
    @Test func thePluginOfTheSameIdUnderTwoRootsRunsTwice() throws {
        let first = try Host()
        let second = try Host()
        _ = try first.apply()
        _ = try second.apply()
        #expect(try first.client.request("health")["loaded"] == .bool(true))
        #expect(try second.client.request("health")["loaded"] == .bool(true))
        let groups = [try first.status().cgroups["memory"], try second.status().cgroups["memory"]]
        #expect(groups[0] != nil && groups[0] != groups[1], "\(groups)")
    }
}
