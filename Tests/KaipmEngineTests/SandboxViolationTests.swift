import Foundation
import KaipmCore
import KaipmEngine
import KaipmRegistry
import KaipmSandbox
import Testing

/// Issue #3 end to end: a hostile plugin deployed by the real reconciler into a real sandbox beside
/// a well-behaved neighbour. Every violation fails or is stopped, is in the audit log with its
/// error or kind, and leaves the host, the registry and the neighbour unharmed.
///
/// Serialized: the plugins' cgroups are named after their ids. Skipped where bubblewrap or the
/// supervisor (built beside the tests) is missing.
@Suite("Isolation violations through the reconciler", .serialized,
       .enabled(if: SandboxReconcileTests.runtime != nil, "needs /usr/bin/bwrap and kaipm-supervisor beside the tests"))
struct SandboxViolationTests {
    /// A repo with `hostile` and `neighbour`, applied: both run.
    final class Host {
        let repo: TestRepo
        let runtime: SandboxRuntime
        /// The neighbour's supervisor: the same one from start to end, or it was harmed.
        var neighbourPID: Int32 = 0
        /// The registered rows after the first apply: no violation may change them.
        var rows: [RegisteredPlugin] = []
        let shadow: String?

        init() throws {
            runtime = try #require(SandboxReconcileTests.runtime)
            repo = try TestRepo()
            for (id, files) in [(HostilePlugin.id, HostilePlugin.hostileFiles), (HostilePlugin.neighbour, HostilePlugin.neighbourFiles)] {
                for (path, text) in files { try repo.write("examples/plugins/\(id)/\(path)", text) }
            }
            try repo.writeEntry(HostilePlugin.id, version: "1.0.0", extra: """
                grants:
                  filesystem:
                    - {path: /etc, mode: ro}
                resources: {memory: 48Mi, cpu: 1, pids: 16}

                """)
            try repo.writeEntry(HostilePlugin.neighbour, version: "1.0.0", extra: "resources: {memory: 64Mi, cpu: 0.5, pids: 16}\n")
            try repo.commit("a hostile plugin and its neighbour")
            shadow = Self.fingerprint("/etc/shadow")
        }

        deinit {
            for id in [HostilePlugin.id, HostilePlugin.neighbour] {
                let layout = SandboxLayout(root: repo.hostRoot, pluginID: id)
                if let status = try? SupervisorStatus.read(layout), SupervisorStatus.supervisorAlive(layout) {
                    kill(status.supervisorPID, SIGKILL)
                    _ = waitUntil(timeout: 3) { !SupervisorStatus.supervisorAlive(layout) }
                }
            }
        }

        var reconciler: Reconciler {
            var options = repo.reconciler(sandboxes: runtime).options
            options.backoff = CrashBackoff(base: 0, cap: 300)
            return Reconciler(options: options)
        }
        var registry: Registry { get throws { try repo.registry() } }
        var console: PluginConsole { PluginConsole(root: repo.hostRoot) }
        func layout(_ id: String) -> SandboxLayout { SandboxLayout(root: repo.hostRoot, pluginID: id) }

        /// The first apply: both plugins run; remembers what must not change.
        func deploy() throws {
            let report = try apply()
            #expect(report.plan.steps.filter { $0.hasPrefix("start") } == ["start hostile", "start neighbour"])
            neighbourPID = try #require(try SupervisorStatus.read(layout(HostilePlugin.neighbour))).supervisorPID
            rows = try registry.plugins()
        }

        @discardableResult
        func apply() throws -> ApplyReport {
            let report = try reconciler.apply()
            #expect(report.failures.isEmpty, "\(report.failures)")
            return report
        }

        /// Runs a hostile command as `kaipm run` does (audited).
        @discardableResult
        func run(_ command: String, _ args: [(String, String)] = [], timeout: Int = 10_000) throws -> PluginConsole.Answer {
            try console.run(HostilePlugin.id, command: command, args: args, actor: "tests", timeoutMilliseconds: timeout)
        }

        /// The hostile plugin's audit entries after `seq`, oldest first.
        func audit(after seq: Int64) throws -> [AuditEntry] {
            try HostInspector(root: repo.hostRoot).audit(plugin: HostilePlugin.id, limit: 1000)
                .filter { ($0.seq ?? 0) > seq }.reversed()
        }

        var lastSeq: Int64 { get throws { try registry.audit(limit: 1).first?.seq ?? 0 } }

        /// The detail of an entry, decoded.
        func detail(_ entry: AuditEntry) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(entry.detail.utf8)) as? [String: Any], "\(entry.detail)")
        }

        /// Waits until the hostile supervisor reports a limit event of `kind` with at least `count` hits.
        func waitForLimit(_ kind: String, count: Int = 1) -> Bool {
            waitUntil(timeout: 5, interval: 0.05) {
                ((try? SupervisorStatus.read(layout(HostilePlugin.id))?.limitEvent(kind)?.count) ?? 0) >= count
            }
        }

        /// Waits until the hostile sandbox ended and its supervisor is gone.
        func waitForHostileEnd() -> SupervisorStatus? {
            let layout = layout(HostilePlugin.id)
            guard waitUntil(timeout: 10, { !SupervisorStatus.supervisorAlive(layout) }) else { return nil }
            return try? SupervisorStatus.read(layout)
        }

        /// The host, the registry and the neighbour are as they were.
        func expectUnharmed(_ context: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
            let neighbour = layout(HostilePlugin.neighbour)
            #expect(try SupervisorStatus.read(neighbour)?.supervisorPID == neighbourPID, "\(context): the neighbour was restarted",
                    sourceLocation: sourceLocation)
            #expect(try ControlClient(layout: neighbour).request("health")["loaded"] == .bool(true), "\(context)",
                    sourceLocation: sourceLocation)
            let ping = try console.run(HostilePlugin.neighbour, command: "ping", args: [], actor: "tests")
            #expect(ping.resultJSON == #"{"pong":true,"state":"neighbour's own state"}"#, "\(context): \(ping)",
                    sourceLocation: sourceLocation)
            let verified = try HostInspector(root: repo.hostRoot).verify(full: true)
            #expect(verified.isIntact, "\(context): \(verified.problems)", sourceLocation: sourceLocation)
            #expect(try registry.plugins() == rows, "\(context): the registered rows changed", sourceLocation: sourceLocation)
            #expect(Self.fingerprint("/etc/shadow") == shadow, "\(context): /etc/shadow changed", sourceLocation: sourceLocation)
        }

        /// Size, mtime and content digest of a host file (nil when it cannot be read).
        static func fingerprint(_ path: String) -> String? {
            guard let data = FileManager.default.contents(atPath: path),
                  let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
            return "\(data.count) \(String(describing: attributes[.modificationDate])) \(Hex.sha256(Array(data)))"
        }
    }

    /// One command that must fail inside the sandbox, with the error the plugin raises.
    struct Denial: CustomStringConvertible {
        var command: String
        var args: [(String, String)]
        /// The start of the audited message after `onCommand raised `.
        var error: String
        var description: String { "\(command) \(args.map { "\($0.0)=\($0.1)" }.joined(separator: " "))" }
    }

    @Test func deniedCallsFailInsideTheSandboxAndAreAuditedWithTheirError() throws {
        let host = try Host()
        try host.deploy()
        let listener = try LocalListener()
        let registry = host.repo.layout.registry
        let neighbourData = host.repo.layout.data(HostilePlugin.neighbour) + "/state.txt"
        let denials = [
            Denial(command: "read", args: [("path", "/etc/shadow")],
                   error: "PermissionError: [Errno 13] Permission denied: '/etc/shadow'"),
            Denial(command: "read", args: [("path", registry)],
                   error: "FileNotFoundError: [Errno 2] No such file or directory: '\(registry)'"),
            Denial(command: "read", args: [("path", neighbourData)],
                   error: "FileNotFoundError: [Errno 2] No such file or directory: '\(neighbourData)'"),
            Denial(command: "write", args: [("path", "/plugin/x")], error: "OSError: [Errno 30] Read-only file system: '/plugin/x'"),
            // Its own code is root's and read-only (0444): the permission check refuses first.
            Denial(command: "write", args: [("path", "/plugin/hooks/onCommand.py")],
                   error: "PermissionError: [Errno 13] Permission denied: '/plugin/hooks/onCommand.py'"),
            // /etc is granted read-only: no new file, and the host's files are not its own.
            Denial(command: "write", args: [("path", "/etc/kaipm-x")], error: "OSError: [Errno 30] Read-only file system: '/etc/kaipm-x'"),
            Denial(command: "write", args: [("path", "/etc/passwd")], error: "PermissionError: [Errno 13] Permission denied: '/etc/passwd'"),
            Denial(command: "connect", args: [("host", "127.0.0.1"), ("port", "\(listener.port)")],
                   error: "ConnectionRefusedError: [Errno 111] Connection refused"),
            Denial(command: "connect", args: [("host", "1.1.1.1"), ("port", "53")], error: "OSError: [Errno 101] Network is unreachable"),
            Denial(command: "ptrace", args: [("request", "traceme")],
                   error: "PermissionError: [Errno 1] ptrace(traceme): Operation not permitted"),
            Denial(command: "ptrace", args: [("request", "attach"), ("pid", "1")],
                   error: "PermissionError: [Errno 1] ptrace(attach): Operation not permitted"),
            Denial(command: "tiocsti", args: [], error: "PermissionError: [Errno 1] Operation not permitted"),
        ]
        for denial in denials {
            let before = try host.lastSeq
            let answer = try host.run(denial.command, denial.args)
            #expect(!answer.ok && answer.errorCode == "CommandFailed", "\(denial): \(answer)")
            #expect(answer.errorMessage?.hasPrefix("onCommand raised " + denial.error) == true, "\(denial): \(answer.errorMessage ?? "")")
            // Exactly one entry: the command, with the error the plugin met and the argument keys only.
            let entries = try host.audit(after: before)
            #expect(entries.map(\.action) == ["command"], "\(denial)")
            if let entry = entries.first {
                let detail = try host.detail(entry)
                #expect(entry.actor == "tests")
                #expect(detail["command"] as? String == denial.command)
                #expect(detail["args"] as? [String] == denial.args.map(\.0).sorted())
                #expect(detail["outcome"] as? String == "failed")
                #expect(detail["code"] as? String == "CommandFailed")
                #expect((detail["message"] as? String)?.hasPrefix("onCommand raised " + denial.error) == true, "\(entry.detail)")
            }
            try host.expectUnharmed("\(denial)")
        }
        #expect(listener.accepted() == 0)

        // A command the plugin does not answer in time is audited as a timeout.
        let before = try host.lastSeq
        #expect(throws: EngineError.self) { try host.run("sleep", [("seconds", "1")], timeout: 300) }
        let timedOut = try #require(try host.audit(after: before).first)
        #expect(try host.detail(timedOut)["outcome"] as? String == "timeout", "\(timedOut.detail)")
        #expect(try host.detail(timedOut)["code"] as? String == "Timeout")
        #expect(try host.run("sleep", [("seconds", "0")]).ok)

        // Nothing the sandbox reported needs auditing: the next apply is a no-op that writes no entry.
        let seq = try host.lastSeq
        #expect(try host.apply().outcome == "no-op")
        #expect(try host.audit(after: seq).isEmpty)
    }

    @Test func limitsTheSandboxSurvivesAreAuditedOnceByTheNextApply() throws {
        let host = try Host()
        try host.deploy()
        let hostilePID = try #require(try SupervisorStatus.read(host.layout(HostilePlugin.id))).supervisorPID

        // A fork bomb stops at pids.max (16): the fork fails, the sandbox lives on.
        var before = try host.lastSeq
        let bomb = try host.run("forkbomb")
        #expect(!bomb.ok && bomb.errorMessage?.contains("BlockingIOError: [Errno 11] fork refused after") == true, "\(bomb)")
        #expect(try host.detail(try #require(try host.audit(after: before).last))["outcome"] as? String == "failed")
        #expect(host.waitForLimit("pids"))
        // A dry run shows it, as no change, and writes nothing.
        before = try host.lastSeq
        let records = try host.registry.sandboxRecords()
        let plan = try host.reconciler.plan()
        #expect(plan.actions.isEmpty && !plan.hasChanges)
        #expect(plan.unaudited?[HostilePlugin.id]?.map(\.summary).first?.hasPrefix("limit pids ×") == true, "\(String(describing: plan.unaudited))")
        #expect(PlanRenderer.text(plan, color: false).contains("⚑ reported   hostile  (limit pids ×"), "\(PlanRenderer.text(plan, color: false))")
        #expect(try host.lastSeq == before)
        #expect(try host.registry.sandboxRecords() == records)

        var report = try host.apply()
        #expect(report.outcome == "no-op" && report.plan.actions.isEmpty)
        var entries = try host.audit(after: before)
        #expect(entries.map(\.action) == ["limit"])
        let pids = try #require(entries.first)
        var detail = try host.detail(pids)
        #expect(pids.actor == "kaipm-supervisor" && pids.runID == report.runID)
        #expect(detail["kind"] as? String == "pids")
        let hits = try #require(Int(detail["count"] as? String ?? ""))
        #expect(hits >= 1 && detail["new"] as? String == String(hits), "\(pids.detail)")
        #expect((detail["message"] as? String)?.contains("pids.max 16") == true, "\(pids.detail)")
        try host.expectUnharmed("fork bomb")

        // Audited once: another apply adds nothing; a second bomb is audited as what is new.
        before = try host.lastSeq
        _ = try host.apply()
        #expect(try host.audit(after: before).isEmpty)
        _ = try host.run("forkbomb")
        #expect(host.waitForLimit("pids", count: hits + 1))
        before = try host.lastSeq
        _ = try host.apply()
        entries = try host.audit(after: before)
        #expect(entries.map(\.action) == ["limit"])
        if let again = entries.first {
            detail = try host.detail(again)
            #expect(Int(detail["count"] as? String ?? "") ?? 0 > hits)
            #expect(Int(detail["new"] as? String ?? "") == (Int(detail["count"] as? String ?? "") ?? 0) - hits, "\(again.detail)")
        }

        // A child allocating past the memory quota (48Mi) is OOM-killed; the plugin lives on.
        let child = try host.run("allocChild", [("mib", "128")])
        #expect(child.resultJSON == #"{"signal":9}"#, "\(child)")
        #expect(host.waitForLimit("memory"))
        before = try host.lastSeq
        report = try host.apply()
        entries = try host.audit(after: before)
        #expect(entries.map(\.action) == ["limit"])
        if let memory = entries.first {
            detail = try host.detail(memory)
            #expect(detail["kind"] as? String == "memory" && detail["count"] as? String == "1", "\(memory.detail)")
            #expect(memory.runID == report.runID)
        }
        #expect(try SupervisorStatus.read(host.layout(HostilePlugin.id))?.supervisorPID == hostilePID)
        #expect(try host.run("sleep", [("seconds", "0")]).ok)
        try host.expectUnharmed("OOM-killed child")
    }

    /// A limit that ends the sandbox: the command that hit it, how the sandbox ended (from the supervisor's status).
    struct Kill: CustomStringConvertible {
        var command: String
        var args: [(String, String)]
        var reason: String
        var signal: Int32
        var description: String { command }
    }

    @Test func limitsThatEndTheSandboxAreAuditedBeforeTheRestart() throws {
        let host = try Host()
        try host.deploy()
        let kills = [
            // 128 MiB in the plugin itself, past its 48Mi quota: the OOM killer ends the sandbox.
            Kill(command: "alloc", args: [("mib", "128")], reason: "MemoryLimit", signal: SIGKILL),
            // Past its RLIMIT_CPU seconds (which the plugin lowered itself, the spec's default being a day): SIGXCPU.
            Kill(command: "spin", args: [], reason: "CPULimit", signal: SIGXCPU),
        ]
        for kill in kills {
            let started = try #require(try SupervisorStatus.read(host.layout(HostilePlugin.id)))
            var before = try host.lastSeq
            let answer = try host.run(kill.command, kill.args, timeout: 20_000)
            #expect(!answer.ok && answer.errorCode == "SandboxExited", "\(kill): \(answer)")
            let command = try #require(try host.audit(after: before).last)
            #expect(try host.detail(command)["code"] as? String == "SandboxExited", "\(command.detail)")
            let ended = try #require(host.waitForHostileEnd(), "\(kill): the sandbox did not end")
            #expect(ended.exit?.reason == kill.reason, "\(kill): \(String(describing: ended.exit))")
            try host.expectUnharmed("\(kill), ended")

            // The dry run sees it dead, shows the end apply will audit, and writes nothing.
            before = try host.lastSeq
            let plan = try host.reconciler.plan()
            #expect(plan.steps == ["restart hostile"], "\(kill): \(plan.steps)")
            #expect(plan.unaudited?[HostilePlugin.id]?.map(\.reason) == [kill.reason], "\(String(describing: plan.unaudited))")
            #expect(plan.action(.restart, HostilePlugin.id)?.reason == "dead (\(kill.reason))")
            #expect(try host.lastSeq == before)

            // Apply audits the end, then restarts it.
            let report = try host.apply()
            #expect(report.plan.steps == ["restart hostile"])
            let entries = try host.audit(after: before)
            #expect(entries.map(\.action) == ["sandbox-exit", "restart"], "\(kill)")
            if let exit = entries.first {
                let detail = try host.detail(exit)
                #expect(exit.actor == "kaipm-supervisor" && exit.runID == report.runID)
                #expect(detail["reason"] as? String == kill.reason, "\(exit.detail)")
                #expect(detail["signal"] as? String == String(kill.signal), "\(exit.detail)")
                #expect(detail["session"] as? String == String(started.startedAtMilliseconds))
                #expect(detail["endedAtMs"] as? String == ended.exit.map { String($0.endedAtMilliseconds) })
                #expect(detail["message"] as? String == ended.exit?.message)
            }
            #expect(try host.run("sleep", [("seconds", "0")]).ok, "\(kill): not running again")
            try host.expectUnharmed("\(kill), restarted")

            // Audited once.
            before = try host.lastSeq
            _ = try host.apply()
            #expect(try host.audit(after: before).isEmpty, "\(kill)")
        }
        #expect(try host.registry.sandboxRecords()[HostilePlugin.id]?.restarts == kills.count)
    }
}

/// A TCP listener on the host's 127.0.0.1, counting the connections it accepts.
final class LocalListener: @unchecked Sendable {
    // @unchecked: the descriptor is only used from the test's task.
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw SupportError("cannot listen on 127.0.0.1")
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }

    /// Accepts (and closes) what is waiting; how many there were.
    func accepted() -> Int {
        var count = 0
        while case let connection = accept(fd, nil, nil), connection >= 0 {
            close(connection)
            count += 1
        }
        return count
    }
}
