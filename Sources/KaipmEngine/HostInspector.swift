import Foundation
import KaipmCore
import KaipmRegistry
import KaipmStore

/// One plugin as `kaipm status` shows it.
public struct PluginStatus: Sendable, Codable {
    public var id: String
    public var name: String
    public var version: String
    public var checksum: String
    public var active: Bool
    public var state: String
    public var source: String
    public var revision: String
    public var updatedAt: String
    public var conditions: [ConditionStatus]
    /// `running`, `stopped` or `dead (<how it ended>)` when sandboxes are on; nil when they are off.
    public var sandbox: String? = nil
    /// Restarts by the reconciler, when sandboxes are on.
    public var restarts: Int? = nil
    /// The running sandbox's first process (bubblewrap) and its supervisor.
    public var pid: Int32? = nil
    public var supervisorPID: Int32? = nil
    /// Seconds since the running sandbox started.
    public var uptimeSeconds: Int? = nil
    /// Memory the running sandbox's cgroup holds now.
    public var memoryBytes: UInt64? = nil
    /// The isolation in force, in a few words (`full, no network`, `weaker: cpu, no network`,
    /// `unsandboxed` for a preloaded core plugin whose entry says `sandbox: false`); for a plugin
    /// not running, `sandboxed` or `unsandboxed` as it last ran; nil when unknown.
    public var isolation: String? = nil
    /// Every limit of the running sandbox: what enforces it, or why nothing does.
    public var isolationItems: [IsolationItem]? = nil
}

/// One limit of a running sandbox, as `kaipm status` shows it.
public struct IsolationItem: Sendable, Codable, Equatable {
    public var limit: String
    public var enforced: Bool
    public var detail: String
}

/// A condition as shown by `kaipm status`.
public struct ConditionStatus: Sendable, Codable {
    public var type: String
    public var status: String
    public var reason: String
    public var message: String
    public var since: String
}

/// `kaipm status` for a host.
public struct HostStatus: Sendable, Codable {
    public var root: String
    public var lastAppliedRevision: String?
    public var lastRunOutcome: String?
    public var lastRunAt: String?
    public var plugins: [PluginStatus]
    /// Whether active plugins run in sandboxes here, and with what (`SandboxRuntime.describe`).
    public var sandboxes: String? = nil
}

/// The result of `kaipm verify`.
public struct VerifyReport: Sendable, Codable {
    public var full: Bool
    public var checkedPlugins: Int
    public var problems: [String]
    public var isIntact: Bool { problems.isEmpty }
}

/// Read-only views of a host: status, verify, history, audit.
public struct HostInspector: Sendable {
    public let layout: HostLayout

    public init(root: String) { layout = HostLayout(root: root) }

    func open() throws(EngineError) -> Registry {
        guard FileManager.default.fileExists(atPath: layout.registry) else {
            throw EngineError.io(operation: "open the registry", path: layout.registry,
                                 reason: "it does not exist yet; run 'kaipm apply' first, or check --root")
        }
        do { return try Registry(path: layout.registry) } catch { throw EngineError.registry("\(error)") }
    }

    static func time(_ seconds: Double) -> String {
        Date(timeIntervalSince1970: seconds).formatted(.iso8601)
    }

    public func status(sandboxes runtime: SandboxRuntime? = SandboxRuntime.detect()) throws(EngineError) -> HostStatus {
        let registry = try open()
        do {
            let records = runtime == nil ? [:] : try registry.sandboxRecords()
            let conditions = try registry.conditions()
            let last = try registry.runs(limit: 1).first
            let applied = try registry.lastAppliedRun()
            let plugins = try registry.plugins().map { row in
                var status = PluginStatus(id: row.id, name: row.name, version: row.version, checksum: row.checksum, active: row.isActive,
                             state: row.state, source: row.source, revision: row.revision, updatedAt: Self.time(row.updatedAt),
                             conditions: (conditions[row.id] ?? []).map {
                                 ConditionStatus(type: $0.type, status: $0.status, reason: $0.reason, message: $0.message,
                                                 since: Self.time($0.lastTransitionAt))
                             })
                if runtime != nil {
                    let read = SandboxObservation.read(root: layout.root, plugin: row.id)
                    let sandbox = SandboxObservation.observe(read.status, locked: read.locked, record: records[row.id])
                    status.sandbox = sandbox.alive ? "running" : sandbox.exitReason.map { row.isActive ? "dead (\($0))" : "stopped" } ?? "stopped"
                    status.restarts = sandbox.restarts
                    status.isolation = sandbox.sandboxed.map { $0 ? "sandboxed" : "unsandboxed" }
                    if sandbox.alive, let running = read.status { SandboxObservation.describeRunning(running, into: &status) }
                }
                return status
            }
            var status = HostStatus(root: layout.root, lastAppliedRevision: applied?.revision, lastRunOutcome: last?.outcome,
                                    lastRunAt: last.map { Self.time($0.startedAt) }, plugins: plugins)
            status.sandboxes = SandboxRuntime.describe(runtime)
            return status
        } catch {
            throw EngineError.registry("\(error)")
        }
    }

    /// Checks every registered plugin's store entry, row and config file, and the audit chain.
    public func verify(full: Bool) throws(EngineError) -> VerifyReport {
        let registry = try open()
        let store = PluginStore(directory: layout.store)
        let observer = HostObserver(layout: layout, store: store)
        var problems: [String] = []
        let rows: [RegisteredPlugin]
        do {
            rows = try registry.plugins()
            problems += try registry.verifyAuditChain().map { "audit log: \($0)" }
        } catch {
            throw EngineError.registry("\(error)")
        }
        for row in rows {
            let observed = observer.observe(row, full: full)
            problems += observed.storeProblems.map { "\(row.id): store: \($0)" }
            problems += observed.registryProblems.map { "\(row.id): registry: \($0)" }
            if let recorded = row.configHash {
                if observed.configFileHash == nil {
                    problems.append("\(row.id): config: \(layout.configFile(row.id)) is missing")
                } else if observed.configFileHash != recorded {
                    problems.append("\(row.id): config: \(layout.configFile(row.id)) was edited outside kaipm")
                }
            }
        }
        return VerifyReport(full: full, checkedPlugins: rows.count, problems: problems)
    }

    public func history(limit: Int) throws(EngineError) -> [ReconcileRun] {
        let registry = try open()
        do { return try registry.runs(limit: limit) } catch { throw EngineError.registry("\(error)") }
    }

    public func audit(plugin: String?, limit: Int) throws(EngineError) -> [AuditEntry] {
        let registry = try open()
        do { return try registry.audit(plugin: plugin, limit: limit) } catch { throw EngineError.registry("\(error)") }
    }
}
