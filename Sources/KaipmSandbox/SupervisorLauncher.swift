import CKaipmSandboxShims
import Glibc

/// A supervisor that came up: its pid (not a child of the caller) and where to reach it.
public struct SupervisorHandle: Sendable, Equatable {
    public let pluginID: String
    public let pid: Int32
    public let layout: SandboxLayout
    /// How the load went, when the start waited for it (`untilLoaded`).
    public var load: LoadOutcome?
}

/// What the supervisor reported after `ready`: the harness's answer to `load`, or the end.
public enum LoadOutcome: Sendable, Equatable {
    case loaded
    /// `load` failed or timed out; the supervisor is stopping the sandbox.
    case failed(message: String)
    /// The sandbox (or the supervisor) ended before the plugin loaded.
    case ended(reason: String, message: String)
}

/// Starts `kaipm-supervisor` for a spec, detached from the caller, and waits until it serves its
/// control socket with the sandbox started.
///
/// The supervisor is spawned in a new session (POSIX_SPAWN_SETSID) and forks once more, so it is
/// neither a child of `kaipm` nor a session leader: it outlives the run that started it and can
/// never acquire a terminal. It reports readiness (or why it could not start) on a pipe.
public struct SupervisorLauncher: Sendable {
    /// The `kaipm-supervisor` executable.
    public let executable: String

    public init(executable: String) {
        self.executable = executable
    }

    /// The supervisor installed beside the running executable (`kaipm` and `kaipm-supervisor` ship together).
    public static func besideCurrentExecutable() -> SupervisorLauncher {
        let own = Posix.canonicalPath("/proc/self/exe") ?? "/usr/bin/kaipm"
        return SupervisorLauncher(executable: Posix.join(Posix.parent(own), "kaipm-supervisor"))
    }

    /// Writes the spec file and starts the supervisor; returns once it is ready, or with
    /// `untilLoaded` once the plugin answered `load` (the pipe says so: no polling).
    /// `timeoutMilliseconds` bounds the whole wait.
    public func start(_ spec: SandboxSpec, timeoutMilliseconds: Int = 10_000, untilLoaded: Bool = false) throws(SandboxError) -> SupervisorHandle {
        try spec.validate()
        let layout = SandboxLayout(spec: spec)
        try Posix.makeDirectories(layout.runDir)
        try Posix.writeFileAtomically(layout.specFile, spec.json.text + "\n", mode: 0o600)

        var ready: [Int32] = [0, 0]
        guard kaipm_pipe(&ready, O_CLOEXEC) == 0 else { throw .system(operation: "pipe", path: nil, code: errno) }
        defer { close(ready[0]) }
        let command: [String] = ["kaipm-supervisor", "--spec", layout.specFile, "--ready-fd", "3"]
        let argv = command.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var first: pid_t = 0
        let spawned = argv.withUnsafeBufferPointer { kaipm_spawn_detached(executable, $0.baseAddress, ready[1], &first) }
        close(ready[1])
        guard spawned == 0 else { throw .system(operation: "posix_spawn", path: executable, code: spawned) }
        // The first process forks the supervisor and exits at once; reap it.
        var status: Int32 = 0
        while waitpid(first, &status, 0) < 0 && errno == EINTR {}

        var report = ReportReader(fd: ready[0], plugin: spec.pluginID, timeoutMilliseconds: timeoutMilliseconds)
        let message = try report.nextLine() ?? ""
        let (word, rest) = Self.split(message)
        if word == "ready", let pid = Int32(rest) {
            var handle = SupervisorHandle(pluginID: spec.pluginID, pid: pid, layout: layout)
            if untilLoaded {
                let next = try report.nextLine()
                let (outcome, detail) = Self.split(next ?? "")
                switch outcome {
                case "loaded": handle.load = .loaded
                case "load-failed": handle.load = .failed(message: detail)
                case "ended":
                    let (reason, text) = Self.split(detail)
                    handle.load = .ended(reason: reason, message: text)
                default:
                    handle.load = .ended(reason: "SupervisorDied", message: next.map { "unexpected report '\($0)'" }
                                             ?? "the supervisor exited before the plugin loaded")
                }
            }
            return handle
        }
        if word == "error", !rest.isEmpty {
            // The supervisor's message names the plugin already; the error adds it again.
            let prefix = "plugin '\(spec.pluginID)': "
            let reason = rest.hasPrefix(prefix) ? String(rest.dropFirst(prefix.count)) : rest
            throw .launchFailed(plugin: spec.pluginID, reason: reason)
        }
        throw .launchFailed(plugin: spec.pluginID, reason: message.isEmpty
            ? "\(executable) exited without a word (exit status \(status)); is it the supervisor of this kaipm build?"
            : "unexpected report '\(message)'")
    }

    private static func split(_ line: String) -> (String, String) {
        let words = line.split(separator: " ", maxSplits: 1)
        return (words.first.map(String.init) ?? "", words.count == 2 ? String(words[1]) : "")
    }

    /// Reads the supervisor's report lines from the pipe, all within one deadline.
    private struct ReportReader {
        let fd: Int32
        let plugin: String
        let timeoutMilliseconds: Int
        let deadline: Int64
        var received = [UInt8]()

        init(fd: Int32, plugin: String, timeoutMilliseconds: Int) {
            self.fd = fd
            self.plugin = plugin
            self.timeoutMilliseconds = timeoutMilliseconds
            deadline = kaipm_monotonic_ns() + Int64(timeoutMilliseconds) * 1_000_000
        }

        /// The next line, or nil once the supervisor closed the pipe without one.
        mutating func nextLine() throws(SandboxError) -> String? {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                if let end = received.firstIndex(of: 0x0a) {
                    let line = String(decoding: received[..<end], as: UTF8.self)
                    received.removeSubrange(...end)
                    return line
                }
                let left = (deadline - kaipm_monotonic_ns()) / 1_000_000
                guard left > 0 else { throw .timedOut(plugin: plugin, operation: "start", milliseconds: timeoutMilliseconds) }
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let polled = poll(&poller, 1, Int32(left))
                if polled < 0, errno != EINTR { throw .system(operation: "poll", path: nil, code: errno) }
                if polled <= 0 { continue }
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    throw .system(operation: "read", path: nil, code: errno)
                }
                if count == 0 {
                    guard !received.isEmpty else { return nil }
                    let line = String(decoding: received, as: UTF8.self)
                    received.removeAll()
                    return line
                }
                received.append(contentsOf: buffer[0..<count])
            }
        }
    }
}
