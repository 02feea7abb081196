import GRDB
import KaipmCore

/// A row of `registered_plugins`: one plugin installed on the host, with the seed's columns
/// (`id`, `name`, `path`, `checksum`, `is_active`) and what the engine needs.
public struct RegisteredPlugin: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "registered_plugins"

    public var id: String
    public var name: String
    /// The store entry the plugin runs from.
    public var path: String
    /// The h1: tree hash.
    public var checksum: String
    public var isActive: Bool
    public var version: String
    public var source: String
    /// `installed`, `active`, `inactive`: a summary for people; `isActive` is authoritative.
    public var state: String
    /// The revision that last changed this row.
    public var revision: String
    /// JSON list of plugin ids.
    public var dependsOn: String
    /// The config last written, as canonical JSON-ish inline text of `ConfigValue` (JSON-encoded).
    public var configJSON: String?
    public var configHash: String?
    public var installedAt: Double
    public var updatedAt: Double
    /// SHA-256 over the row's other fields: a row edited by hand no longer matches.
    public var rowDigest: String

    enum CodingKeys: String, CodingKey {
        case id, name, path, checksum, version, source, state, revision
        case isActive = "is_active"
        case dependsOn = "depends_on"
        case configJSON = "config_json"
        case configHash = "config_hash"
        case installedAt = "installed_at"
        case updatedAt = "updated_at"
        case rowDigest = "row_digest"
    }

    public init(id: String, name: String, path: String, checksum: String, isActive: Bool, version: String, source: String,
                state: String, revision: String, dependsOn: String, configJSON: String?, configHash: String?,
                installedAt: Double, updatedAt: Double, rowDigest: String) {
        self.id = id
        self.name = name
        self.path = path
        self.checksum = checksum
        self.isActive = isActive
        self.version = version
        self.source = source
        self.state = state
        self.revision = revision
        self.dependsOn = dependsOn
        self.configJSON = configJSON
        self.configHash = configHash
        self.installedAt = installedAt
        self.updatedAt = updatedAt
        self.rowDigest = rowDigest
    }

    /// The digest the row should carry.
    public var expectedDigest: String {
        let fields: [String] = [id, name, path, checksum, isActive ? "1" : "0", version, source, state, revision, dependsOn,
                                configJSON ?? "", configHash ?? ""]
        return Hex.sha256(Array(("kaipm-row-v1\u{0}" + fields.joined(separator: "\u{0}")).utf8))
    }

    /// Recomputes `rowDigest`: every write through the registry calls this.
    public mutating func seal() { rowDigest = expectedDigest }
}

/// A row of `user_plugins`: an end user's enablement and personal settings of an allowed plugin.
public struct UserPlugin: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "user_plugins"

    public var userID: String
    public var pluginID: String
    public var configBlob: String?
    public var sandboxID: String?
    public var enabled: Bool
    public var updatedAt: Double

    enum CodingKeys: String, CodingKey {
        case enabled
        case userID = "user_id"
        case pluginID = "plugin_id"
        case configBlob = "config_blob"
        case sandboxID = "sandbox_id"
        case updatedAt = "updated_at"
    }
}

/// A row of `reconcile_runs`: one plan or apply, with its outcome and the plan as JSON.
public struct ReconcileRun: Codable, Sendable, Hashable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "reconcile_runs"

    public var id: Int64?
    public var revision: String
    public var pinned: Bool
    public var host: String
    public var startedAt: Double
    public var finishedAt: Double?
    /// `running`, `applied`, `no-op`, `failed`, `interrupted`, `refused`.
    public var outcome: String
    public var planJSON: String?
    public var error: String?
    public var actor: String

    enum CodingKeys: String, CodingKey {
        case id, revision, pinned, host, outcome, error, actor
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case planJSON = "plan_json"
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A row of `conditions`: Flux's shape, one per plugin and type.
public struct PluginCondition: Codable, Sendable, Hashable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "conditions"

    public var pluginID: String
    /// `Ready`, `Installed`, `Configured`, `Drifted`, `Blocked`.
    public var type: String
    /// `True`, `False`, `Unknown`.
    public var status: String
    /// CamelCase reason (`Installed`, `ChecksumMismatch`, `InvalidEntry`).
    public var reason: String
    public var message: String
    public var lastTransitionAt: Double

    enum CodingKeys: String, CodingKey {
        case type, status, reason, message
        case pluginID = "plugin_id"
        case lastTransitionAt = "last_transition_at"
    }
}

/// A row of `audit_log`: append-only and hash-chained, so a deleted or edited row is detectable.
public struct AuditEntry: Codable, Sendable, Hashable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "audit_log"

    public var seq: Int64?
    public var at: Double
    public var actor: String
    public var pluginID: String?
    public var action: String
    public var detail: String
    public var runID: Int64?
    public var prevHash: String
    public var hash: String

    enum CodingKeys: String, CodingKey {
        case seq, at, actor, action, detail, hash
        case pluginID = "plugin_id"
        case runID = "run_id"
        case prevHash = "prev_hash"
    }

    /// The hash this entry must carry given its predecessor's.
    public var expectedHash: String {
        let fields = [prevHash, String(at), actor, pluginID ?? "", action, detail, runID.map(String.init) ?? ""]
        return Hex.sha256(Array(("kaipm-audit-v1\u{0}" + fields.joined(separator: "\u{0}")).utf8))
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { seq = inserted.rowID }
}
