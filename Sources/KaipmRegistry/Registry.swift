import Foundation
import GRDB
import KaipmCore

/// The host's SQLite registry at `<root>/kos/db/plugins.sqlite`, in WAL mode.
///
/// Owns the database writer and exposes intention-named writes. Every write that changes a
/// plugin also appends its audit entry in the same transaction, so the registry and the audit
/// log never disagree, whatever kills the process.
public struct Registry: Sendable {
    let db: DatabaseQueue
    let now: @Sendable () -> Double
    /// The database file, for messages.
    public let path: String

    /// Opens (creating if needed) the registry at `path` and runs pending migrations.
    public init(path: String, now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) throws(RegistryError) {
        self.path = path
        self.now = now
        var config = Configuration()
        config.journalMode = .wal
        config.busyMode = .timeout(10)
        config.foreignKeysEnabled = true
        // WAL with synchronous=NORMAL: a commit survives a crash of kaipm (kill -9) and never
        // corrupts the database; only a power cut may lose the last commits, which the next
        // reconcile redoes from git. FULL would fsync every action's transaction.
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        do {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            db = try DatabaseQueue(path: path, configuration: config)
            try Migrations.migrator.migrate(db)
        } catch {
            throw RegistryError.open(path: path, underlying: "\(error)")
        }
    }

    /// An in-memory registry, for tests of the layers above.
    public static func inMemory() throws(RegistryError) -> Registry {
        try Registry(path: ":memory:")
    }

    func read<T>(_ body: (Database) throws -> T) throws(RegistryError) -> T {
        do { return try db.read(body) } catch { throw RegistryError.query(path: path, underlying: "\(error)") }
    }

    func write<T>(_ body: (Database) throws -> T) throws(RegistryError) -> T {
        do { return try db.write(body) } catch { throw RegistryError.query(path: path, underlying: "\(error)") }
    }

    // MARK: Plugins

    /// Every registered plugin, by id.
    public func plugins() throws(RegistryError) -> [RegisteredPlugin] {
        try read { db in try RegisteredPlugin.order(Column("id")).fetchAll(db) }
    }

    /// The checksums (tree hashes) registered plugins use: what store garbage collection keeps.
    /// Reads one column, not whole rows.
    public func checksums() throws(RegistryError) -> Set<String> {
        try read { db in Set(try String.fetchAll(db, sql: "SELECT DISTINCT checksum FROM registered_plugins")) }
    }

    /// One plugin's row, if registered.
    public func plugin(_ id: String) throws(RegistryError) -> RegisteredPlugin? {
        try read { db in
            try RegisteredPlugin.fetchOne(db.cachedStatement(sql: "SELECT * FROM registered_plugins WHERE id = ?"), arguments: [id])
        }
    }

    /// Writes a plugin's row (insert or replace), its audit entry and optionally a condition, in one transaction.
    public func recordPlugin(_ row: RegisteredPlugin, audit: AuditDraft, condition: ConditionDraft? = nil) throws(RegistryError) {
        var sealed = row
        let time = now()
        sealed.updatedAt = time
        sealed.seal()
        try write { db in
            try sealed.save(db)
            try appendAudit(audit, plugin: row.id, in: db)
            if let condition { try saveCondition(condition, plugin: row.id, time: time, in: db) }
        }
    }

    /// Deletes a plugin's row (its user rows and conditions go with it) and audits it.
    public func recordRemoved(_ id: String, audit: AuditDraft) throws(RegistryError) {
        try write { db in
            _ = try RegisteredPlugin.deleteOne(db, key: id)
            try db.execute(sql: "DELETE FROM conditions WHERE plugin_id = ?", arguments: [id])
            try appendAudit(audit, plugin: id, in: db)
        }
    }

    // MARK: Conditions

    /// Sets a condition, keeping its transition time when the status did not change.
    public func setCondition(plugin: String, type: String, status: String, reason: String, message: String) throws(RegistryError) {
        let time = now()
        let draft = ConditionDraft(type: type, status: status, reason: reason, message: message)
        try write { db in try saveCondition(draft, plugin: plugin, time: time, in: db) }
    }

    private func saveCondition(_ draft: ConditionDraft, plugin: String, time: Double, in db: Database) throws {
        // Runs in every action's transaction: cached statements, no SQL generated per call.
        let existing = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT status, last_transition_at FROM conditions WHERE plugin_id = ? AND type = ?"),
            arguments: [plugin, draft.type])
        let transition: Double = existing.map { row in row["status"] == draft.status ? row["last_transition_at"] : time } ?? time
        try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO conditions (plugin_id, type, status, reason, message, last_transition_at)
            VALUES (?, ?, ?, ?, ?, ?)
            """).execute(arguments: [plugin, draft.type, draft.status, draft.reason, draft.message, transition])
    }

    /// Removes a condition type from a plugin (a cleared Blocked, say).
    public func clearCondition(plugin: String, type: String) throws(RegistryError) {
        try write { db in
            _ = try PluginCondition.deleteOne(db, key: ["plugin_id": plugin, "type": type])
        }
    }

    /// The message of every plugin's Blocked condition, by plugin id.
    public func blockedMessages() throws(RegistryError) -> [String: String] {
        try read { db in
            var result: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT plugin_id, message FROM conditions WHERE type = 'Blocked'") {
                result[row["plugin_id"]] = row["message"]
            }
            return result
        }
    }

    /// All conditions, grouped by plugin.
    public func conditions() throws(RegistryError) -> [String: [PluginCondition]] {
        let rows = try read { db in try PluginCondition.order(Column("plugin_id"), Column("type")).fetchAll(db) }
        return Dictionary(grouping: rows, by: \.pluginID)
    }

    // MARK: Users

    /// Enables or disables a plugin for an end user, with their personal settings.
    public func setUserPlugin(user: String, plugin: String, enabled: Bool, configBlob: String?, audit: AuditDraft) throws(RegistryError) {
        let time = now()
        try write { db in
            let existing = try UserPlugin.fetchOne(db, key: ["user_id": user, "plugin_id": plugin])
            try UserPlugin(userID: user, pluginID: plugin, configBlob: configBlob ?? existing?.configBlob,
                           sandboxID: existing?.sandboxID, enabled: enabled, updatedAt: time).save(db)
            try appendAudit(audit, plugin: plugin, in: db)
        }
    }

    /// Every user row, optionally for one user.
    public func userPlugins(user: String? = nil) throws(RegistryError) -> [UserPlugin] {
        try read { db in
            var request = UserPlugin.order(Column("user_id"), Column("plugin_id"))
            if let user { request = request.filter(Column("user_id") == user) }
            return try request.fetchAll(db)
        }
    }

    // MARK: Runs

    /// Records the start of a reconcile run and returns its id.
    public func beginRun(revision: String, pinned: Bool, host: String, actor: String) throws(RegistryError) -> Int64 {
        var run = ReconcileRun(id: nil, revision: revision, pinned: pinned, host: host, startedAt: now(), finishedAt: nil,
                               outcome: "running", planJSON: nil, error: nil, actor: actor)
        try write { db in try run.insert(db) }
        return run.id ?? 0
    }

    /// Records how a run ended.
    public func finishRun(_ id: Int64, outcome: String, planJSON: String?, error: String?) throws(RegistryError) {
        let time = now()
        try write { db in
            try db.execute(sql: "UPDATE reconcile_runs SET finished_at = ?, outcome = ?, plan_json = COALESCE(?, plan_json), error = ? WHERE id = ?",
                           arguments: [time, outcome, planJSON, error, id])
        }
    }

    /// Records a whole run at once: one transaction for a run that had nothing to do.
    public func recordFinishedRun(revision: String, pinned: Bool, host: String, actor: String, outcome: String,
                                  startedAt: Double) throws(RegistryError) -> Int64 {
        var run = ReconcileRun(id: nil, revision: revision, pinned: pinned, host: host, startedAt: startedAt,
                               finishedAt: now(), outcome: outcome, planJSON: nil, error: nil, actor: actor)
        try write { db in try run.insert(db) }
        return run.id ?? 0
    }

    /// Marks runs left `running` by a process that died as `interrupted`.
    public func markInterruptedRuns() throws(RegistryError) {
        // A read first: the usual answer is "none", and a read costs no write transaction.
        let any = try read { db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM reconcile_runs WHERE outcome = 'running')") }
        guard any == true else { return }
        try write { db in
            try db.execute(sql: "UPDATE reconcile_runs SET outcome = 'interrupted' WHERE outcome = 'running'")
        }
    }

    /// Past runs, newest first.
    public func runs(limit: Int = 50) throws(RegistryError) -> [ReconcileRun] {
        try read { db in try ReconcileRun.order(Column("id").desc).limit(limit).fetchAll(db) }
    }

    /// The newest run that applied or found nothing to do: the host's last converged revision.
    public func lastAppliedRun() throws(RegistryError) -> ReconcileRun? {
        try read { db in
            try ReconcileRun.filter(["applied", "no-op"].contains(Column("outcome"))).order(Column("id").desc).fetchOne(db)
        }
    }

    // MARK: Audit

    /// The audit log, newest first, optionally for one plugin.
    public func audit(plugin: String? = nil, limit: Int = 100) throws(RegistryError) -> [AuditEntry] {
        try read { db in
            var request = AuditEntry.order(Column("seq").desc).limit(limit)
            if let plugin { request = request.filter(Column("plugin_id") == plugin) }
            return try request.fetchAll(db)
        }
    }

    /// Appends an audit entry that concerns no single plugin (a refused plan, say).
    public func recordEvent(_ audit: AuditDraft, plugin: String? = nil) throws(RegistryError) {
        try write { db in try appendAudit(audit, plugin: plugin, in: db) }
    }

    /// Walks the hash chain and returns each break found (a deleted, inserted or edited row).
    public func verifyAuditChain() throws(RegistryError) -> [String] {
        try read { db in
            var problems: [String] = []
            var previous = ""
            var expectedSeq: Int64 = 1
            for entry in try AuditEntry.order(Column("seq")).fetchAll(db) {
                let seq = entry.seq ?? 0
                if seq != expectedSeq { problems.append("audit entries \(expectedSeq)…\(seq - 1) are missing") }
                if entry.prevHash != previous { problems.append("audit entry \(seq) does not follow the one before it") }
                if entry.hash != entry.expectedHash { problems.append("audit entry \(seq) was edited") }
                previous = entry.hash
                expectedSeq = seq + 1
            }
            return problems
        }
    }

    func appendAudit(_ draft: AuditDraft, plugin: String?, in db: Database) throws {
        let previous = try String.fetchOne(db.cachedStatement(sql: "SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1")) ?? ""
        var entry = AuditEntry(seq: nil, at: now(), actor: draft.actor, pluginID: plugin, action: draft.action,
                               detail: draft.detail, runID: draft.runID, prevHash: previous, hash: "")
        entry.hash = entry.expectedHash
        try entry.insert(db)
    }

    // MARK: Caches

    /// The last converged state recorded for `host`: its desired key, observed fingerprint, plan,
    /// and the inputs it was resolved from (when they were recorded).
    public func convergedState(host: String) throws(RegistryError)
        -> (desiredKey: String, fingerprint: String, planJSON: String, inputs: String?)?
    {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT desired_key, observed_fingerprint, plan_json, inputs FROM converged_state WHERE host = ?",
                                             arguments: [host]) else { return nil }
            return (row["desired_key"], row["observed_fingerprint"], row["plan_json"], row["inputs"])
        }
    }

    /// Records that `host` converged to `desiredKey` with the observed state `fingerprint`.
    public func recordConverged(host: String, desiredKey: String, fingerprint: String, planJSON: String,
                                inputs: String? = nil) throws(RegistryError) {
        let time = now()
        try write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO converged_state (host, desired_key, observed_fingerprint, plan_json, recorded_at, inputs) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [host, desiredKey, fingerprint, planJSON, time, inputs])
        }
    }

    /// Forgets the converged state of `host` (after a failed apply, say).
    public func clearConverged(host: String) throws(RegistryError) {
        try write { db in try db.execute(sql: "DELETE FROM converged_state WHERE host = ?", arguments: [host]) }
    }

    /// Parsed plugin packages by tree hash, as JSON.
    public func cachedPackages() throws(RegistryError) -> [String: String] {
        try read { db in
            var result: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT tree_hash, package_json FROM package_cache") {
                result[row["tree_hash"]] = row["package_json"]
            }
            return result
        }
    }

    /// Remembers parsed packages by tree hash, and forgets those of hashes not in `keep` when given.
    public func cachePackages(_ entries: [String: String], keep: Set<String>? = nil) throws(RegistryError) {
        guard !entries.isEmpty || keep != nil else { return }
        try write { db in
            for (hash, json) in entries {
                try db.execute(sql: "INSERT OR REPLACE INTO package_cache (tree_hash, package_json) VALUES (?, ?)",
                               arguments: [hash, json])
            }
            if let keep {
                for hash in try String.fetchAll(db, sql: "SELECT tree_hash FROM package_cache") where !keep.contains(hash) {
                    try db.execute(sql: "DELETE FROM package_cache WHERE tree_hash = ?", arguments: [hash])
                }
            }
        }
    }

    /// Tree hashes already computed for a source identity (a git tree id), by key.
    public func cachedTreeHashes() throws(RegistryError) -> [String: TreeHash] {
        try read { db in
            var result: [String: TreeHash] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT source_key, tree_hash FROM source_hash_cache") {
                let key: String = row["source_key"]
                if let hash = TreeHash(row["tree_hash"] as String) { result[key] = hash }
            }
            return result
        }
    }

    /// Remembers tree hashes for source identities.
    public func cacheTreeHashes(_ entries: [String: TreeHash]) throws(RegistryError) {
        guard !entries.isEmpty else { return }
        let time = now()
        try write { db in
            for (key, hash) in entries {
                try db.execute(sql: "INSERT OR REPLACE INTO source_hash_cache (source_key, tree_hash, updated_at) VALUES (?, ?, ?)",
                               arguments: [key, hash.value, time])
            }
        }
    }
}

/// A condition to set along with a plugin's row.
public struct ConditionDraft: Sendable {
    public var type: String
    /// `True`, `False` or `Unknown`.
    public var status: String
    public var reason: String
    public var message: String

    public init(type: String, status: String, reason: String, message: String) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
    }
}

/// What an audit entry says, before the registry chains it.
public struct AuditDraft: Sendable {
    public var actor: String
    public var action: String
    /// A JSON object or a sentence.
    public var detail: String
    public var runID: Int64?

    public init(actor: String, action: String, detail: String, runID: Int64?) {
        self.actor = actor
        self.action = action
        self.detail = detail
        self.runID = runID
    }
}

/// Why the registry could not be read or written, and what to do.
public enum RegistryError: Error, Sendable, CustomStringConvertible {
    case open(path: String, underlying: String)
    case query(path: String, underlying: String)

    public var description: String {
        switch self {
        case let .open(path, underlying):
            if access(path, F_OK) == 0, access(path, W_OK) != 0 {
                // Every command opens it read-write (migrations, the run record); a plan too.
                return "cannot open the registry at \(path): \(underlying). It is not writable by uid \(getuid()); run kaipm as the user that owns the host root (usually root, e.g. with sudo)"
            }
            return "cannot open the registry at \(path): \(underlying). Check that the folder is writable and the file is a kaipm registry; restore it from a backup if it is corrupt"
        case let .query(path, underlying):
            return "registry \(path): \(underlying)"
        }
    }
}

// MARK: Sandboxes

/// What the registry keeps about one plugin's sandbox.
public struct SandboxRecord: Sendable, Hashable {
    public var plugin: String
    public var uid: UInt32
    public var restarts: Int
    /// The quota and grants signatures of the last start; nil before the first.
    public var quota: String?
    public var grants: String?
    /// Consecutive crash restarts, and when it was last started (seconds since 1970).
    public var failures: Int = 0
    public var lastStartAt: Double? = nil
    /// The revision that failed to start and was rolled back, with why.
    public var failedTreeHash: String? = nil
    public var failedConfigHash: String? = nil
    public var failedReason: String? = nil
    /// What the audit log already has of its supervisor's reports (limit events, ends).
    public var audited = SandboxAuditMark()
}

extension Registry {
    /// The uid of `plugin`'s sandbox, allocated on first use: one above the highest allocated (at least `first`).
    /// Stable: the same plugin always gets the same uid.
    public func sandboxUID(plugin: String, first: UInt32) throws(RegistryError) -> UInt32 {
        let time = now()
        return try write { db in
            if let uid = try Int64.fetchOne(db, sql: "SELECT uid FROM sandbox_uids WHERE plugin_id = ?", arguments: [plugin]) {
                return UInt32(uid)
            }
            let highest = try Int64.fetchOne(db, sql: "SELECT MAX(uid) FROM sandbox_uids") ?? nil
            let uid = max(Int64(first), (highest ?? Int64(first) - 1) + 1)
            try db.execute(sql: "INSERT INTO sandbox_uids (plugin_id, uid, restarts, updated_at) VALUES (?, ?, 0, ?)",
                           arguments: [plugin, uid, time])
            return UInt32(uid)
        }
    }

    /// Records a start of `plugin`'s sandbox with its quota and grants; counts it when it is a restart.
    public func recordSandboxStart(plugin: String, quota: String, grants: String, restart: Bool) throws(RegistryError) {
        let time = now()
        try write { db in
            try db.execute(sql: """
                UPDATE sandbox_uids SET quota = ?, grants = ?, restarts = restarts + ?, updated_at = ? WHERE plugin_id = ?
                """, arguments: [quota, grants, restart ? 1 : 0, time, plugin])
        }
    }

    /// Records that `plugin`'s sandbox is being started now: after a crash of the same revision
    /// (`crashed`) the consecutive failures grow by one, otherwise they start again from zero, as
    /// they do when its last start is more than `resetAfter` seconds ago (it ran well that long).
    public func recordSandboxAttempt(plugin: String, crashed: Bool, resetAfter: Double = 600) throws(RegistryError) {
        let time = now()
        try write { db in
            try db.execute(sql: """
                UPDATE sandbox_uids SET failures = CASE WHEN ? AND last_start_at > ? THEN failures + 1 ELSE 0 END,
                       last_start_at = ?, updated_at = ?
                WHERE plugin_id = ?
                """, arguments: [crashed, time - resetAfter, time, time, plugin])
        }
    }

    /// Records the revision of `plugin` that failed to start (and was rolled back), or clears it (nil).
    public func recordSandboxFailure(plugin: String, treeHash: String?, configHash: String?, reason: String?) throws(RegistryError) {
        let time = now()
        try write { db in
            try db.execute(sql: """
                UPDATE sandbox_uids SET failed_tree_hash = ?, failed_config_hash = ?, failed_reason = ?, updated_at = ?
                WHERE plugin_id = ?
                """, arguments: [treeHash, configHash, reason, time, plugin])
        }
    }

    /// Every sandbox record, by plugin id.
    public func sandboxRecords() throws(RegistryError) -> [String: SandboxRecord] {
        try read { db in
            var result: [String: SandboxRecord] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT plugin_id, uid, restarts, quota, grants, failures, last_start_at, failed_tree_hash, failed_config_hash,
                       failed_reason, audited_session, audited_limits, audited_exit_session FROM sandbox_uids
                """) {
                let id: String = row["plugin_id"]
                let uid: Int64 = row["uid"]
                result[id] = SandboxRecord(plugin: id, uid: UInt32(uid), restarts: row["restarts"], quota: row["quota"], grants: row["grants"],
                                           failures: row["failures"], lastStartAt: row["last_start_at"],
                                           failedTreeHash: row["failed_tree_hash"], failedConfigHash: row["failed_config_hash"],
                                           failedReason: row["failed_reason"],
                                           audited: SandboxAuditMark(session: row["audited_session"],
                                                                     limits: SandboxAuditMark.decodeLimits(row["audited_limits"]),
                                                                     exitSession: row["audited_exit_session"]))
            }
            return result
        }
    }
}
