import KaipmCore
import KaipmRegistry
import KaipmSandbox

extension SandboxObservation {
    /// What `status` reports that `audited` says the audit log does not have: each limit counter
    /// above its audited count of the same session, and the session's end (`ended`, the observed
    /// exit reason, or nil while the sandbox runs) unless it was audited.
    static func events(_ status: SupervisorStatus, ended: String?, audited: SandboxAuditMark) -> [SandboxEvent] {
        let session = status.startedAtMilliseconds
        var events: [SandboxEvent] = []
        for limit in status.limitEvents {
            let before = audited.audited(limit.kind, in: session)
            guard limit.count > before else { continue }
            var event = SandboxEvent(kind: .limit, reason: limit.kind, message: limit.message, session: session)
            event.count = limit.count
            event.newCount = limit.count - before
            event.firstAtMilliseconds = limit.firstAtMilliseconds
            event.lastAtMilliseconds = limit.lastAtMilliseconds
            events.append(event)
        }
        if let ended, audited.exitSession != session {
            let exit = status.exit
            let message = exit?.message ?? "its supervisor (pid \(status.supervisorPID)) died without recording "
                + "how the sandbox ended; the sandbox died with it"
            var event = SandboxEvent(kind: .exit, reason: exit?.reason ?? ended, message: message, session: session)
            event.code = exit?.code
            event.signal = exit?.signal
            event.endedAtMilliseconds = exit?.endedAtMilliseconds
            events.append(event)
        }
        return events
    }
}

/// Writes the sandbox events an observation found into the audit log, each exactly once.
struct SandboxEventAudit {
    /// Who the entries name as actor: the supervisor saw the events; the run that recorded them is the entry's run.
    static let actor = "kaipm-supervisor"

    let registry: Registry

    /// Audits the events of every plugin in `observed` (in plugin order), each plugin's with its
    /// mark in one transaction. A plugin whose events cannot be written is retried by the next
    /// apply; the error is returned per plugin, never thrown: it must not stop the reconcile.
    @discardableResult
    func record(_ observed: ObservedState, runID: Int64?) -> [String: RegistryError] {
        var failures: [String: RegistryError] = [:]
        let pending = observed.plugins.compactMap { id, plugin in
            plugin.sandbox.flatMap { $0.events.isEmpty ? nil : (id, $0.events) }
        }
        guard !pending.isEmpty, let records = try? registry.sandboxRecords() else { return failures }
        for (id, events) in pending.sorted(by: { $0.0 < $1.0 }) {
            guard let record = records[id] else { continue }
            do {
                try registry.recordSandboxReports(plugin: id, audits: events.map { audit($0, runID: runID) },
                                                  mark: Self.mark(after: events, from: record.audited))
            } catch {
                failures[id] = error
            }
        }
        return failures
    }

    func audit(_ event: SandboxEvent, runID: Int64?) -> AuditDraft {
        AuditDraft(actor: Self.actor, action: event.kind.rawValue, detail: PlanRenderer.compactJSON(event.auditDetail), runID: runID)
    }

    /// `audited` advanced past `events`.
    static func mark(after events: [SandboxEvent], from audited: SandboxAuditMark) -> SandboxAuditMark {
        var mark = audited
        for event in events {
            var limits: [String: Int] = [:]
            if event.kind == .limit, let count = event.count { limits[event.reason] = count }
            mark = mark.advanced(session: event.session, limits: limits, exited: event.kind == .exit)
        }
        return mark
    }
}
