import GRDB

/// The registry's schema. Migrations are named and never edited once shipped: add a new one.
enum Migrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-registry") { db in
            try db.create(table: "registered_plugins") { t in
                t.column("id", .text).primaryKey()
                t.column("name", .text).notNull()
                t.column("path", .text).notNull()
                t.column("checksum", .text).notNull()
                t.column("is_active", .boolean).notNull().defaults(to: false)
                t.column("version", .text).notNull()
                t.column("source", .text).notNull()
                t.column("state", .text).notNull()
                t.column("revision", .text).notNull()
                t.column("depends_on", .text).notNull().defaults(to: "[]")
                t.column("config_json", .text)
                t.column("config_hash", .text)
                t.column("installed_at", .double).notNull()
                t.column("updated_at", .double).notNull()
                t.column("row_digest", .text).notNull()
            }
            try db.create(table: "user_plugins") { t in
                t.column("user_id", .text).notNull()
                t.column("plugin_id", .text).notNull()
                    .references("registered_plugins", onDelete: .cascade)
                t.column("config_blob", .text)
                t.column("sandbox_id", .text)
                t.column("enabled", .boolean).notNull().defaults(to: true)
                t.column("updated_at", .double).notNull()
                t.primaryKey(["user_id", "plugin_id"])
            }
            try db.create(table: "reconcile_runs") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("revision", .text).notNull()
                t.column("pinned", .boolean).notNull()
                t.column("host", .text).notNull()
                t.column("started_at", .double).notNull()
                t.column("finished_at", .double)
                t.column("outcome", .text).notNull()
                t.column("plan_json", .text)
                t.column("error", .text)
                t.column("actor", .text).notNull()
            }
            try db.create(table: "conditions") { t in
                t.column("plugin_id", .text).notNull()
                t.column("type", .text).notNull()
                t.column("status", .text).notNull()
                t.column("reason", .text).notNull()
                t.column("message", .text).notNull()
                t.column("last_transition_at", .double).notNull()
                t.primaryKey(["plugin_id", "type"])
            }
            try db.create(table: "audit_log") { t in
                t.autoIncrementedPrimaryKey("seq")
                t.column("at", .double).notNull()
                t.column("actor", .text).notNull()
                t.column("plugin_id", .text)
                t.column("action", .text).notNull()
                t.column("detail", .text).notNull()
                t.column("run_id", .integer)
                t.column("prev_hash", .text).notNull()
                t.column("hash", .text).notNull()
            }
            // Append-only: the engine never updates or deletes audit rows; the triggers make
            // an accidental write fail loudly, and the hash chain catches deliberate ones.
            try db.execute(sql: """
                CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
                BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
                CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
                BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
                """)
            // Caches that make a no-op reconcile cheap. Losing them costs time, never correctness.
            // What the host converged to last: when neither the desired revision nor the observed
            // state moved since, the plan is known to be empty without parsing anything.
            try db.create(table: "converged_state") { t in
                t.column("host", .text).primaryKey()
                t.column("desired_key", .text).notNull()
                t.column("observed_fingerprint", .text).notNull()
                t.column("plan_json", .text).notNull()
                t.column("recorded_at", .double).notNull()
            }
            // Parsed plugin packages by tree hash: content-addressed, so never stale.
            try db.create(table: "package_cache") { t in
                t.column("tree_hash", .text).primaryKey()
                t.column("package_json", .text).notNull()
            }
            try db.create(table: "source_hash_cache") { t in
                t.column("source_key", .text).primaryKey()
                t.column("tree_hash", .text).notNull()
                t.column("updated_at", .double).notNull()
            }
        }
        // The per-plugin inputs (git object ids) of the converged state, so that a new revision
        // that changed a few plugins re-reads only those (see the engine's `ResolutionInputs`).
        migrator.registerMigration("v2-converged-inputs") { db in
            try db.alter(table: "converged_state") { t in
                t.add(column: "inputs", .text)
            }
        }
        // Each plugin's sandbox: the unprivileged uid it runs as (allocated once, kept even when
        // the plugin is removed, so a reinstall finds its data folder still its own), how often the
        // reconciler restarted it, and the quotas and grants of its last start.
        migrator.registerMigration("v3-sandbox-uids") { db in
            try db.create(table: "sandbox_uids") { t in
                t.column("plugin_id", .text).primaryKey()
                t.column("uid", .integer).notNull().unique()
                t.column("restarts", .integer).notNull().defaults(to: 0)
                t.column("quota", .text)
                t.column("grants", .text)
                t.column("updated_at", .double).notNull()
            }
        }
        // What the crash-loop backoff and the rollback of a failed update need to remember: the
        // consecutive crash restarts and the time of the last start, and the revision (tree hash and
        // config hash) that failed to start and was rolled back, with why, so it is not retried.
        migrator.registerMigration("v4-sandbox-failures") { db in
            try db.alter(table: "sandbox_uids") { t in
                t.add(column: "failures", .integer).notNull().defaults(to: 0)
                t.add(column: "last_start_at", .double)
                t.add(column: "failed_tree_hash", .text)
                t.add(column: "failed_config_hash", .text)
                t.add(column: "failed_reason", .text)
            }
        }
        // How far the audit log has caught up with each sandbox's supervisor reports, so that every
        // limit event and every end is audited exactly once (see `SandboxAuditMark`): the supervisor
        // session (its start, ms since 1970) the audited limit counters belong to, those counters
        // (JSON, kind → count), and the session whose end was audited.
        migrator.registerMigration("v5-sandbox-audit-marks") { db in
            try db.alter(table: "sandbox_uids") { t in
                t.add(column: "audited_session", .integer)
                t.add(column: "audited_limits", .text)
                t.add(column: "audited_exit_session", .integer)
            }
        }
        return migrator
    }
}
