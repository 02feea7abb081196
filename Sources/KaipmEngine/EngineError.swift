import KaipmCore

/// Why a reconcile could not run, with what to do about it.
public enum EngineError: Error, Sendable, CustomStringConvertible {
    /// Another reconcile holds the lock.
    case locked(path: String, holder: String, waited: Double)
    /// The desired state cannot be used at all (kos.config.yaml or this host's file is invalid).
    case invalidDesiredState(DesiredStateError)
    /// The saved plan no longer applies.
    case stalePlan(reason: String)
    /// The saved plan file cannot be read.
    case badPlanFile(path: String, reason: String)
    /// Reading the desired state from git failed.
    case git(String)
    /// The desired-state folder does not exist at the revision.
    case desiredStateMissing(message: String)
    /// A file-system operation failed.
    case io(operation: String, path: String, reason: String)
    /// The registry failed.
    case registry(String)
    /// Apply finished, but some actions failed; the rest converged.
    case actionsFailed([String])
    /// A command named a plugin the desired state does not have (for that host).
    case unknownPlugin(id: String, reason: String)

    public var description: String {
        switch self {
        case let .locked(path, holder, waited):
            return "another reconcile is running: \(path) is held by \(holder)"
                + (waited > 0 ? "; waited \(waited)s" : "") + ". Wait for it, or pass --wait SECONDS"
        case let .invalidDesiredState(error):
            return "the desired state cannot be used:\n" + error.description
        case let .stalePlan(reason):
            return "the saved plan is stale: \(reason). Make a new plan with 'kaipm plan --out FILE' and review it again"
        case let .badPlanFile(path, reason):
            return "cannot read the saved plan \(path): \(reason)"
        case let .git(message), let .desiredStateMissing(message):
            return message
        case let .io(operation, path, reason):
            return "cannot \(operation) \(path): \(reason)"
        case let .registry(message):
            return message
        case let .actionsFailed(failures):
            return "\(failures.count) action(s) failed; the others were applied:\n" + failures.joined(separator: "\n")
        case let .unknownPlugin(id, reason):
            return "no plugin '\(id)': \(reason). Check the id, --rev and --host"
        }
    }
}
