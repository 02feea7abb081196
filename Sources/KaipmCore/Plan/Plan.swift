/// What a plan action does to one plugin.
public enum ActionKind: String, Sendable, Hashable, Codable, CaseIterable {
    case stop, deactivate, remove, install, update, repair, configure, activate, start, restart

    /// The phase an action runs in: stop → deactivate → remove → install/update/repair → configure
    /// → activate → start/restart. `stop`, `start` and `restart` act on a plugin's sandbox and
    /// appear only when kaipm manages sandboxes on the host.
    public var phase: Int {
        switch self {
        case .stop: return 0
        case .deactivate: return 1
        case .remove: return 2
        case .install, .update, .repair: return 3
        case .configure: return 4
        case .activate: return 5
        case .start, .restart: return 6
        }
    }

    /// Phases that take things down run dependents first; the others run dependencies first.
    public var takesDown: Bool { phase <= 2 }
}

/// One changed value of an action: a field or a config key with its before and after.
public struct FieldChange: Sendable, Hashable, Codable {
    /// `version`, `checksum`, `active`, or `config.<dotted.path>`.
    public var field: String
    public var before: String?
    public var after: String?

    public init(field: String, before: String?, after: String?) {
        self.field = field
        self.before = before
        self.after = after
    }

    enum CodingKeys: String, CodingKey { case field, before, after }

    /// Writes `null` for an absent side, so that every change has the same three keys.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(field, forKey: .field)
        try container.encode(before, forKey: .before)
        try container.encode(after, forKey: .after)
    }
}

/// One step of a plan.
public struct PlanAction: Sendable, Hashable, Codable {
    public var plugin: String
    public var action: ActionKind
    /// Why, in words a reviewer understands.
    public var reason: String
    public var changes: [FieldChange]

    public init(plugin: String, action: ActionKind, reason: String, changes: [FieldChange] = []) {
        self.plugin = plugin
        self.action = action
        self.reason = reason
        self.changes = changes
    }
}

/// An action the plan holds back, with why: a crashed plugin's restart waiting out its crash-loop
/// backoff, or an update whose revision already failed and was rolled back.
public struct DeferredAction: Sendable, Hashable, Codable {
    public var plugin: String
    public var action: ActionKind
    public var reason: String
    /// `CrashLoop` (waiting for `until`) or `FailedRevision` (until the desired revision changes).
    public var kind: String
    /// When the action may run (seconds since 1970); nil when it waits for a new revision.
    public var until: Double?

    public init(plugin: String, action: ActionKind, reason: String, kind: String, until: Double? = nil) {
        self.plugin = plugin
        self.action = action
        self.reason = reason
        self.kind = kind
        self.until = until
    }
}

/// A plugin the plan leaves alone, with why.
public struct BlockedPlugin: Sendable, Hashable, Codable {
    public var plugin: String
    public var problems: [String]

    public init(plugin: String, problems: [String]) {
        self.plugin = plugin
        self.problems = problems
    }
}

/// An ordered list of actions that converges one host to one revision.
///
/// Serialized as JSON it is the saved plan of `kaipm plan --out` and the `--format json` output;
/// `formatVersion` changes only when a field changes meaning or goes away (fields may be added).
public struct Plan: Sendable, Hashable, Codable {
    public static let currentFormatVersion = 1

    public var formatVersion: Int
    public var host: String
    /// The git commit planned for, or `unpinned:<digest>` for a `--dir` tree.
    public var revision: String
    public var pinned: Bool
    /// The observed state's fingerprint when the plan was made.
    public var observedFingerprint: String
    public var actions: [PlanAction]
    public var blocked: [BlockedPlugin]
    /// Plugins left alone because their entry says `suspend: true`.
    public var suspended: [String]
    public var warnings: [String]
    /// Actions held back (crash-loop backoff, a failed revision); absent from the JSON when none.
    public var deferred: [DeferredAction]?
    /// What the sandboxes' supervisors reported that the audit log does not have yet, by plugin:
    /// apply audits it before its actions. Not a change (no "changes pending"); absent when none.
    public var unaudited: [String: [SandboxEvent]]?

    public init(host: String, revision: String, pinned: Bool, observedFingerprint: String, actions: [PlanAction],
                blocked: [BlockedPlugin] = [], suspended: [String] = [], warnings: [String] = [], deferred: [DeferredAction]? = nil) {
        self.deferred = deferred
        self.formatVersion = Plan.currentFormatVersion
        self.host = host
        self.revision = revision
        self.pinned = pinned
        self.observedFingerprint = observedFingerprint
        self.actions = actions
        self.blocked = blocked
        self.suspended = suspended
        self.warnings = warnings
    }

    /// Whether applying would change anything.
    public var hasChanges: Bool { !actions.isEmpty }

    /// Action counts by kind, in phase order, for summaries.
    public var summary: [(ActionKind, Int)] {
        ActionKind.allCases.compactMap { kind in
            let count = actions.filter { $0.action == kind }.count
            return count > 0 ? (kind, count) : nil
        }
    }
}
