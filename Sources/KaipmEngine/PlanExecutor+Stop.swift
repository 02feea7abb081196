import KaipmRegistry
import KaipmSandbox

extension PlanExecutor {
    /// Audits a stop this run made, and marks the end it left in the status file as audited with
    /// it: the stop's entry says how the sandbox ended, so the next apply does not audit it again
    /// as a `sandbox-exit`.
    func recordStop(_ id: String, audit: AuditDraft) throws {
        let status = (try? SupervisorStatus.read(SandboxLayout(root: layout.root, pluginID: id))) ?? nil
        if let status, status.exit != nil, let record = try registry.sandboxRecords()[id] {
            let mark = record.audited.advanced(session: status.startedAtMilliseconds, limits: [:], exited: true)
            if try registry.recordSandboxReports(plugin: id, audits: [audit], mark: mark) { return }
        }
        try registry.recordEvent(audit, plugin: id)
    }
}
