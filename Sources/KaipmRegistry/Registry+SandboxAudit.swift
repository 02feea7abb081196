import Foundation
import GRDB

/// How far the audit log has caught up with one plugin's supervisor reports.
///
/// A supervisor counts the limits its sandbox runs into (`pids`, `memory`) from the start of its
/// session, named by the session's start time, and records the sandbox's end once. The mark keeps
/// the counters as last audited, in which session, and which session's end was audited: a report
/// is new when its counter is above the mark's (of the same session) or its session's end is not
/// marked yet. Apply advances the mark in the transaction that appends the entries, so each
/// report is audited exactly once, whatever kills the process.
public struct SandboxAuditMark: Sendable, Hashable {
    /// The supervisor session (its `startedAtMilliseconds`) the limit counters belong to; nil before the first.
    public var session: Int64?
    /// Limit kind → the supervisor's counter, as last audited in `session`.
    public var limits: [String: Int]
    /// The session whose end was audited.
    public var exitSession: Int64?

    public init(session: Int64? = nil, limits: [String: Int] = [:], exitSession: Int64? = nil) {
        self.session = session
        self.limits = limits
        self.exitSession = exitSession
    }

    /// The counters already audited of `session`'s limit `kind` (0 for a session not marked).
    public func audited(_ kind: String, in session: Int64) -> Int {
        self.session == session ? limits[kind] ?? 0 : 0
    }

    /// This mark after auditing `limits` counters and, when `exited`, the end of `session`.
    public func advanced(session: Int64, limits counted: [String: Int], exited: Bool) -> SandboxAuditMark {
        var next = self
        if next.session != session {
            next.session = session
            next.limits = [:]
        }
        for (kind, count) in counted { next.limits[kind] = max(next.limits[kind] ?? 0, count) }
        if exited { next.exitSession = session }
        return next
    }

    /// The `audited_limits` column, `{"memory":1,"pids":13}`.
    static func encodeLimits(_ limits: [String: Int]) -> String? {
        guard !limits.isEmpty else { return nil }
        return "{" + limits.keys.sorted().map { "\"\($0)\":\(limits[$0] ?? 0)" }.joined(separator: ",") + "}"
    }

    /// Reads the `audited_limits` column; an unreadable value reads as nothing audited.
    public static func decodeLimits(_ text: String?) -> [String: Int] {
        guard let data = text?.data(using: .utf8),
              let decoded = try? JSONDecoder().decode([String: Int].self, from: data) else { return [:] }
        return decoded
    }
}

extension Registry {
    /// Appends the audit entries of `plugin`'s sandbox reports and advances its mark to `mark`,
    /// in one transaction. Returns false, writing nothing, when the plugin has no sandbox row
    /// (nothing could remember that the entries were written).
    @discardableResult
    public func recordSandboxReports(plugin: String, audits: [AuditDraft], mark: SandboxAuditMark) throws(RegistryError) -> Bool {
        let time = now()
        return try write { db in
            try db.execute(sql: """
                UPDATE sandbox_uids SET audited_session = ?, audited_limits = ?, audited_exit_session = ?, updated_at = ?
                WHERE plugin_id = ?
                """, arguments: [mark.session, SandboxAuditMark.encodeLimits(mark.limits), mark.exitSession, time, plugin])
            guard db.changesCount > 0 else { return false }
            for audit in audits { try appendAudit(audit, plugin: plugin, in: db) }
            return true
        }
    }
}
