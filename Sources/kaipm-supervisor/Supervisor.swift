import CKaipmSandboxShims
import Glibc
import KaipmSandbox

/// Owns one sandbox from start to end: starts bubblewrap, keeps its console in the log, relays
/// the control socket's requests to the harness, stops it on `unload` or SIGTERM, reaps it and
/// records how it ended. Single-threaded: one poll loop, no Foundation, no Dispatch.
final class Supervisor {
    /// Who asked a request the harness is answering.
    enum Requester {
        /// The supervisor itself (the `load` it sends at start, the `unload` of a stop).
        case supervisor
        /// A client connection (by serial: descriptors are reused), with the id it used.
        case client(serial: Int, id: JSON)
    }

    struct PendingRequest {
        var requester: Requester
        var op: String
        var deadline: Int64
        var timeoutMilliseconds: Int
    }

    enum Phase {
        case running
        /// `unload` sent; SIGTERM at the deadline.
        case unloading(deadline: Int64)
        /// SIGTERM sent; SIGKILL at the deadline.
        case terminating(deadline: Int64)
    }

    let spec: SandboxSpec
    let layout: SandboxLayout
    let log: ConsoleLog
    let readyReport: ReadyReport
    var status: SupervisorStatus
    var cgroup: SandboxCgroup?
    var sandboxPID: pid_t = -1
    var signals: Int32 = -1
    var listener: Int32 = -1
    var console: Int32 = -1
    var harness: LineChannel?
    /// Client connections by serial number.
    var clients = [Int: LineChannel]()
    var nextClientSerial = 1
    var pending = [Int: PendingRequest]()
    var nextRequestID = 1
    var phase = Phase.running
    /// Why the supervisor is stopping the sandbox, when it is: the end reason unless the kernel's says more.
    var stopReason: (reason: String, message: String)?
    var oomKillsAtStart = 0
    var limitWatch = LimitWatch()
    var sandboxEnded: (code: Int32, signal: Int32)?
    /// Whether this supervisor holds the plugin's lock: only then are the status file and socket its own.
    var holdsLock = false

    init(spec: SandboxSpec, readyReport: ReadyReport) throws(SandboxError) {
        self.spec = spec
        self.layout = SandboxLayout(spec: spec)
        self.readyReport = readyReport
        try Posix.makeDirectories(layout.runDir)
        log = try ConsoleLog(path: layout.logFile, policy: spec.log)
        status = SupervisorStatus(pluginID: spec.pluginID, version: spec.version, configHash: spec.configHash,
                                  state: .starting, supervisorPID: getpid(), startedAtMilliseconds: kaipm_wall_ms())
    }

    static func now() -> Int64 { kaipm_monotonic_ns() / 1_000_000 }

    /// Runs the sandbox to its end; the supervisor's exit status.
    func run() -> Int32 {
        do {
            try start()
        } catch {
            let reason = error.code == "IsolationNotEnforced" ? "IsolationNotEnforced" : "StartFailed"
            log.event("could not start the sandbox: \(error)")
            // The status first: whoever reads the report reads the status next.
            recordEnd(SupervisorStatus.Exit(reason: reason, message: error.description, endedAtMilliseconds: kaipm_wall_ms()))
            cleanUp()
            if case let .launchFailed(_, reason) = error {
                readyReport.fail(reason)
            } else {
                readyReport.fail(error.description)
            }
            return 1
        }
        readyReport.ready(pid: getpid())
        loop()
        return 0
    }

    func writeStatus() {
        // A supervisor refused for a plugin another one runs must not overwrite that one's status.
        guard holdsLock else { return }
        do {
            try status.write(to: layout)
        } catch {
            log.event("could not write the status file: \(error)")
        }
    }

    func recordEnd(_ exit: SupervisorStatus.Exit) {
        status.state = .exited
        status.exit = exit
        writeStatus()
    }

    private func loop() {
        while true {
            var fds = [pollfd(fd: signals, events: Int16(POLLIN), revents: 0)]
            if listener >= 0 { fds.append(pollfd(fd: listener, events: Int16(POLLIN), revents: 0)) }
            if console >= 0 { fds.append(pollfd(fd: console, events: Int16(POLLIN), revents: 0)) }
            if let harness { fds.append(pollfd(fd: harness.fd, events: Int16(POLLIN) | (harness.wantsWrite ? Int16(POLLOUT) : 0), revents: 0)) }
            for client in clients.values {
                // A client that closed its writing side still waits for its answers: poll it for writing only.
                let events = (client.readEnded ? 0 : Int16(POLLIN)) | (client.wantsWrite ? Int16(POLLOUT) : 0)
                fds.append(pollfd(fd: client.fd, events: events, revents: 0))
            }
            let ready = poll(&fds, nfds_t(fds.count), pollTimeout())
            if ready < 0 && errno != EINTR {
                log.event("poll failed: \(Posix.errorText(errno))")
                killSandbox(SIGKILL)
            }
            var events = [Int32: Int16]()
            for entry in fds where entry.revents != 0 { events[entry.fd] = entry.revents }
            let readable = Set(events.keys)
            if console >= 0 && readable.contains(console) { pumpConsole() }
            if let harness, readable.contains(harness.fd) { serviceHarness(harness) }
            if listener >= 0 && readable.contains(listener) { acceptClients() }
            for client in clients.values {
                if let revents = events[client.fd] { serviceClient(client, hungUp: revents & Int16(POLLHUP | POLLERR) != 0) }
            }
            if readable.contains(signals) { handleSignals() }
            checkDeadlines()
            checkLimits()
            if sandboxEnded != nil {
                // The sandbox is gone: what it wrote last is all there is.
                if console >= 0 { pumpConsole() }
                if let harness { serviceHarness(harness) }
                break
            }
        }
        finish()
    }

    private func pollTimeout() -> Int32 {
        var nearest = [pending.values.map(\.deadline).min(), limitCheckDeadline].compactMap { $0 }.min()
        switch phase {
        case .running: break
        case let .unloading(deadline), let .terminating(deadline): nearest = min(nearest ?? deadline, deadline)
        }
        guard let nearest else { return -1 }
        return Int32(max(0, min(nearest - Supervisor.now(), 60_000)))
    }

    private func pumpConsole() {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(console, $0.baseAddress, $0.count) }
            if count > 0 {
                log.append(buffer[0..<count])
                continue
            }
            if count < 0 && errno == EINTR { continue }
            if count < 0 && errno == EAGAIN { return }
            close(console)
            console = -1
            return
        }
    }

    private func handleSignals() {
        while true {
            let signal = kaipm_read_signal(signals)
            if signal <= 0 { return }
            switch signal {
            case SIGCHLD:
                var code: Int32 = 0
                var killer: Int32 = 0
                if sandboxPID > 0, kaipm_reap(sandboxPID, &code, &killer) == sandboxPID {
                    sandboxEnded = (code, killer)
                }
            default:
                log.event("received signal \(signal): stopping the sandbox")
                beginStop(reason: "Stopped", message: "the supervisor was asked to stop (signal \(signal))")
            }
        }
    }

    private func checkDeadlines() {
        let now = Supervisor.now()
        for (id, request) in pending where request.deadline <= now {
            pending[id] = nil
            timedOut(request)
        }
        switch phase {
        case .running: break
        case let .unloading(deadline) where deadline <= now:
            log.event("the sandbox did not end within \(spec.timeouts.unloadMilliseconds) ms of unload: SIGTERM")
            killSandbox(SIGTERM)
            phase = .terminating(deadline: now + Int64(spec.timeouts.killGraceMilliseconds))
        case let .terminating(deadline) where deadline <= now:
            log.event("the sandbox outlived SIGTERM by \(spec.timeouts.killGraceMilliseconds) ms: SIGKILL")
            killSandbox(SIGKILL)
            cgroup?.processes().forEach { kill($0, SIGKILL) }
            phase = .terminating(deadline: now + 1000)
        default: break
        }
    }

    func killSandbox(_ signal: Int32) {
        if sandboxPID > 0 && sandboxEnded == nil { kill(sandboxPID, signal) }
    }

    /// Stops the sandbox: `unload` first, then SIGTERM, then SIGKILL, each bounded.
    func beginStop(reason: String, message: String) {
        if stopReason == nil { stopReason = (reason, message) }
        guard case .running = phase else { return }
        status.state = .stopping
        writeStatus()
        let deadline = Supervisor.now() + Int64(spec.timeouts.unloadMilliseconds)
        phase = .unloading(deadline: deadline)
        if let harness, !harness.readEnded {
            relay(.object(["op": .string("unload")]), op: "unload", requester: .supervisor, timeoutMilliseconds: spec.timeouts.unloadMilliseconds)
        } else {
            killSandbox(SIGTERM)
            phase = .terminating(deadline: Supervisor.now() + Int64(spec.timeouts.killGraceMilliseconds))
        }
    }
}

/// Tells the launcher how the start goes (the `--ready-fd` pipe): `ready <pid>` once the sandbox
/// started, then `loaded` or `load-failed <message>` once the harness answered `load`; or
/// `error <message>` when it could not start, and `ended <reason> <message>` when the sandbox
/// ended before loading. A launcher that stopped reading after `ready` costs a failed write.
final class ReadyReport {
    private var fd: Int32

    init(fd: Int32) {
        self.fd = fd
    }

    func ready(pid: Int32) { say("ready \(pid)", last: false) }

    func loaded() { say("loaded", last: true) }

    func loadFailed(_ message: String) { say("load-failed " + Self.oneLine(message), last: true) }

    func ended(_ reason: String, _ message: String) { say("ended \(reason) " + Self.oneLine(message), last: true) }

    func fail(_ message: String) { say("error " + Self.oneLine(message), last: true) }

    private static func oneLine(_ text: String) -> String { text.split(separator: "\n").joined(separator: " ") }

    private func say(_ line: String, last: Bool) {
        guard fd >= 0 else { return }
        Posix.writeAll(fd, Array((line + "\n").utf8))
        if last {
            close(fd)
            fd = -1
        }
    }
}
