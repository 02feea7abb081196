import Glibc

/// Everything that can go wrong in KaipmSandbox: what failed, for which plugin, and what to do.
public enum SandboxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The spec itself is unusable (a bad id, a relative path, a zero quota).
    case invalidSpec(plugin: String, reason: String)
    /// A filesystem grant names a path a sandbox must never see.
    case grantRefused(plugin: String, path: String, reason: String)
    /// A system call failed.
    case system(operation: String, path: String?, code: Int32)
    /// libseccomp refused to build or export the filter.
    case seccomp(reason: String)
    /// A quota the spec asks for cannot be enforced on this host, and weaker isolation was not allowed.
    case isolationNotEnforced(plugin: String, limits: [String])
    /// The supervisor did not come up.
    case launchFailed(plugin: String, reason: String)
    /// No supervisor answers on the plugin's control socket.
    case notRunning(plugin: String, socket: String)
    /// The supervisor or the harness answered something that is not the protocol.
    case protocolViolation(plugin: String, reason: String)
    /// The request was answered with an error.
    case requestFailed(plugin: String, code: String, message: String)
    /// No answer within the timeout.
    case timedOut(plugin: String, operation: String, milliseconds: Int)

    /// A stable CamelCase code, for status conditions and JSON output.
    public var code: String {
        switch self {
        case .invalidSpec: return "InvalidSandboxSpec"
        case .grantRefused: return "GrantRefused"
        case .system: return "SystemCallFailed"
        case .seccomp: return "SeccompFailed"
        case .isolationNotEnforced: return "IsolationNotEnforced"
        case .launchFailed: return "LaunchFailed"
        case .notRunning: return "NotRunning"
        case .protocolViolation: return "ProtocolViolation"
        case let .requestFailed(_, code, _): return code
        case .timedOut: return "Timeout"
        }
    }

    public var description: String {
        switch self {
        case let .invalidSpec(plugin, reason):
            return "plugin '\(plugin)': invalid sandbox spec: \(reason)"
        case let .grantRefused(plugin, path, reason):
            return "plugin '\(plugin)': filesystem grant \(path) refused: \(reason); remove it from the plugin's grants"
        case let .system(operation, path, code):
            let target = path.map { " \($0)" } ?? ""
            return "\(operation)\(target) failed: \(Posix.errorText(code))"
        case let .seccomp(reason):
            return "building the seccomp filter failed: \(reason); is libseccomp 2.5 or later installed (libseccomp-dev)?"
        case let .isolationNotEnforced(plugin, limits):
            return "plugin '\(plugin)': this host cannot enforce \(limits.joined(separator: "; ")); "
                + "fix the host (see `kaipm doctor`) or opt in with isolation.allowWeaker in kos.config.yaml"
        case let .launchFailed(plugin, reason):
            return "plugin '\(plugin)': the sandbox supervisor did not start: \(reason)"
        case let .notRunning(plugin, socket):
            return "plugin '\(plugin)' is not running: nothing answers on \(socket); start it with `kaipm apply`"
        case let .protocolViolation(plugin, reason):
            return "plugin '\(plugin)': control protocol violated: \(reason)"
        case let .requestFailed(plugin, code, message):
            return "plugin '\(plugin)': \(code): \(message)"
        case let .timedOut(plugin, operation, milliseconds):
            return "plugin '\(plugin)': no answer to '\(operation)' within \(milliseconds) ms; "
                + "see its log with `kaipm logs \(plugin)`"
        }
    }
}
