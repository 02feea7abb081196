/// Something a plugin's supervisor reported that the host's audit log does not have yet: a
/// quota its sandbox ran into and lived on (a fork refused at its process limit, a process the
/// OOM killer killed), or the sandbox's end. Apply audits each one once, before its actions.
public struct SandboxEvent: Sendable, Hashable, Codable {
    /// The audit action it becomes.
    public enum Kind: String, Sendable, Hashable, Codable {
        /// A limit the sandbox hit while it lived on.
        case limit
        /// The sandbox ended.
        case exit = "sandbox-exit"
    }

    public var kind: Kind
    /// A limit's kind (`pids`, `memory`), or how the sandbox ended (`MemoryLimit`, `CPULimit`,
    /// `Crashed`, `Killed`, `Unloaded`, …, or `SupervisorDied` when its supervisor died first).
    public var reason: String
    public var message: String
    /// The supervisor session (its start, milliseconds since 1970) the report belongs to.
    public var session: Int64
    /// A limit: how often it was hit since the session started, and how many of those are new.
    public var count: Int? = nil
    public var newCount: Int? = nil
    /// A limit: when it was first and last hit (milliseconds since 1970).
    public var firstAtMilliseconds: Int64? = nil
    public var lastAtMilliseconds: Int64? = nil
    /// An end: when it ended (milliseconds since 1970; nil when its supervisor died before saying).
    public var endedAtMilliseconds: Int64? = nil
    /// An end: the exit code, or the signal that killed the sandbox.
    public var code: Int? = nil
    public var signal: Int? = nil

    public init(kind: Kind, reason: String, message: String, session: Int64) {
        self.kind = kind
        self.reason = reason
        self.message = message
        self.session = session
    }

    /// The audit entry's detail: every known field as a string, for `PlanRenderer.compactJSON`.
    public var auditDetail: [String: String] {
        var detail = ["message": message, "session": String(session)]
        detail[kind == .limit ? "kind" : "reason"] = reason
        if let count { detail["count"] = String(count) }
        if let newCount { detail["new"] = String(newCount) }
        if let firstAtMilliseconds { detail["firstAtMs"] = String(firstAtMilliseconds) }
        if let lastAtMilliseconds { detail["lastAtMs"] = String(lastAtMilliseconds) }
        if let endedAtMilliseconds { detail["endedAtMs"] = String(endedAtMilliseconds) }
        if let code { detail["code"] = String(code) }
        if let signal { detail["signal"] = String(signal) }
        return detail
    }

    /// One line for people: `limit pids ×13: …`, `sandbox-exit MemoryLimit (signal 9): …`.
    public var summary: String {
        var head = "\(kind.rawValue) \(reason)"
        if let newCount { head += " ×\(newCount)" }
        if let signal { head += " (signal \(signal))" } else if let code { head += " (exit \(code))" }
        return head + ": " + message
    }
}
