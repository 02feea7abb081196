import CKaipmSandboxShims
import Glibc

/// What a supervisor says about its sandbox in `<root>/kos/run/<id>.status.json`: rewritten
/// (atomically) at every change of state, and left behind with how the sandbox ended.
public struct SupervisorStatus: Sendable, Equatable {
    public static let formatVersion = 1

    public enum State: String, Sendable, Equatable {
        /// Setting up cgroups, seccomp and bubblewrap.
        case starting
        /// The sandbox runs (its load result is in `load`).
        case running
        /// Unloading, or being killed.
        case stopping
        /// The sandbox ended; `exit` says how. The supervisor is gone or about to be.
        case exited
    }

    /// How a sandbox ended.
    public struct Exit: Sendable, Equatable {
        /// `Unloaded`, `Stopped`, `Exited`, `Crashed`, `Killed`, `MemoryLimit`, `CPULimit`,
        /// `LoadFailed`, `LoadTimeout`, `StartFailed`, `IsolationNotEnforced`.
        public var reason: String
        public var message: String
        /// The harness's exit code, when it exited.
        public var code: Int?
        /// The signal that killed it, when one did.
        public var signal: Int?
        public var endedAtMilliseconds: Int64
        /// The end of the console log, when the end was not an orderly one.
        public var logTail: String?

        public init(reason: String, message: String, code: Int? = nil, signal: Int? = nil,
                    endedAtMilliseconds: Int64, logTail: String? = nil) {
            self.reason = reason
            self.message = message
            self.code = code
            self.signal = signal
            self.endedAtMilliseconds = endedAtMilliseconds
            self.logTail = logTail
        }
    }

    public var pluginID: String
    public var version: String?
    public var configHash: String?
    public var state: State
    public var supervisorPID: Int32
    /// The outer bubblewrap process (the sandbox's parent on the host).
    public var sandboxPID: Int32?
    public var startedAtMilliseconds: Int64
    /// The harness's answer to `load`: nil until it answered.
    public var load: JSON?
    public var isolation: IsolationReport
    /// Controller → cgroup folder.
    public var cgroups: [String: String]
    /// The quotas the sandbox ran into and lived on (see `LimitEvent`); empty when none.
    public var limitEvents: [LimitEvent] = []
    public var exit: Exit?

    public init(pluginID: String, version: String?, configHash: String?, state: State, supervisorPID: Int32,
                sandboxPID: Int32? = nil, startedAtMilliseconds: Int64, load: JSON? = nil,
                isolation: IsolationReport = IsolationReport(), cgroups: [String: String] = [:], exit: Exit? = nil) {
        self.pluginID = pluginID
        self.version = version
        self.configHash = configHash
        self.state = state
        self.supervisorPID = supervisorPID
        self.sandboxPID = sandboxPID
        self.startedAtMilliseconds = startedAtMilliseconds
        self.load = load
        self.isolation = isolation
        self.cgroups = cgroups
        self.exit = exit
    }

    public var json: JSON {
        var exitJSON: JSON?
        if let exit {
            exitJSON = .object([
                "reason": .string(exit.reason), "message": .string(exit.message),
                "code": exit.code.map { .int($0) }, "signal": exit.signal.map { .int($0) },
                "endedAtMs": .int(exit.endedAtMilliseconds), "logTail": exit.logTail.map { .string($0) },
            ])
        }
        return .object([
            "formatVersion": .int(Self.formatVersion),
            "plugin": .string(pluginID),
            "version": version.map { .string($0) },
            "configHash": configHash.map { .string($0) },
            "state": .string(state.rawValue),
            "supervisorPid": .int(supervisorPID),
            "sandboxPid": sandboxPID.map { .int($0) },
            "startedAtMs": .int(startedAtMilliseconds),
            "load": load,
            "isolation": isolation.json,
            "cgroups": .object(cgroups.sorted { $0.key < $1.key }.map { JSON.Member($0.key, .string($0.value)) }),
            "limitEvents": limitEvents.isEmpty ? nil : .array(limitEvents.map(\.json)),
            "exit": exitJSON,
        ])
    }

    public init(json: JSON) throws(SandboxError) {
        guard let plugin = json["plugin"]?.stringValue, let stateText = json["state"]?.stringValue,
              let state = State(rawValue: stateText), let supervisor = json["supervisorPid"]?.intValue else {
            throw .protocolViolation(plugin: json["plugin"]?.stringValue ?? "?", reason: "the status file lacks plugin, state or supervisorPid")
        }
        pluginID = plugin
        version = json["version"]?.stringValue
        configHash = json["configHash"]?.stringValue
        self.state = state
        supervisorPID = Int32(supervisor)
        sandboxPID = json["sandboxPid"]?.intValue.map { Int32($0) }
        startedAtMilliseconds = Int64(json["startedAtMs"]?.intValue ?? 0)
        load = json["load"]
        isolation = IsolationReport(json: json["isolation"] ?? .array([]))
        var groups = [String: String]()
        for member in json["cgroups"]?.objectValue ?? [] { groups[member.key] = member.value.stringValue }
        cgroups = groups
        limitEvents = (json["limitEvents"]?.arrayValue ?? []).compactMap(LimitEvent.init(json:))
        if let exit = json["exit"], let reason = exit["reason"]?.stringValue {
            self.exit = Exit(reason: reason, message: exit["message"]?.stringValue ?? "", code: exit["code"]?.intValue,
                             signal: exit["signal"]?.intValue, endedAtMilliseconds: Int64(exit["endedAtMs"]?.intValue ?? 0),
                             logTail: exit["logTail"]?.stringValue)
        } else {
            exit = nil
        }
    }

    /// Writes the status file atomically.
    public func write(to layout: SandboxLayout) throws(SandboxError) {
        try Posix.writeFileAtomically(layout.statusFile, json.text + "\n", mode: 0o644)
    }

    /// Reads a plugin's status file; nil when there is none.
    public static func read(_ layout: SandboxLayout) throws(SandboxError) -> SupervisorStatus? {
        guard let bytes = Posix.readFile(layout.statusFile) else { return nil }
        let json: JSON
        do {
            json = try JSON(parsing: bytes)
        } catch {
            throw .protocolViolation(plugin: layout.pluginID, reason: "\(layout.statusFile): \(error)")
        }
        return try SupervisorStatus(json: json)
    }

    /// Whether a supervisor holds the plugin's lock now: alive, whatever its status file says.
    public static func supervisorAlive(_ layout: SandboxLayout) -> Bool {
        let fd = open(layout.lockFile, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return kaipm_lock_is_held(fd) == 1
    }
}
