import Foundation
import KaipmCore
import KaipmRegistry
import KaipmSandbox
import KaipmStore

/// What kaipm runs active plugins with: the supervisor executable and bubblewrap. When a
/// reconcile has one (`ReconcileOptions.sandboxes`), "active" means "running": plans carry
/// start, stop and restart actions and apply converges the sandboxes.
public struct SandboxRuntime: Sendable, Equatable {
    /// The `kaipm-supervisor` executable.
    public var supervisor: String
    public var bubblewrap: String
    /// How long a start may take until the plugin answers `health`, in milliseconds.
    public var readyTimeoutMilliseconds: Int

    public init(supervisor: String, bubblewrap: String = "/usr/bin/bwrap", readyTimeoutMilliseconds: Int = 15_000) {
        self.supervisor = supervisor
        self.bubblewrap = bubblewrap
        self.readyTimeoutMilliseconds = readyTimeoutMilliseconds
    }

    /// The runtime of this host: the supervisor installed beside the running executable (or
    /// `$KAIPM_SUPERVISOR`) and `/usr/bin/bwrap`, when both exist; nil when either is missing or
    /// `$KAIPM_SANDBOXES` is `off` (or `0`, `false`, `no`).
    public static func detect(environment: [String: String] = ProcessInfo.processInfo.environment) -> SandboxRuntime? {
        if let setting = environment["KAIPM_SANDBOXES"]?.lowercased(), ["off", "0", "false", "no"].contains(setting) {
            return nil
        }
        let supervisor = environment["KAIPM_SUPERVISOR"] ?? SupervisorLauncher.besideCurrentExecutable().executable
        let runtime = SandboxRuntime(supervisor: supervisor)
        let fm = FileManager.default
        guard fm.isExecutableFile(atPath: runtime.supervisor), fm.isExecutableFile(atPath: runtime.bubblewrap) else { return nil }
        return runtime
    }

    /// One line for `kaipm status`.
    public static func describe(_ runtime: SandboxRuntime?) -> String {
        guard let runtime else {
            return "off (active plugins are recorded, not run: no bubblewrap or kaipm-supervisor found, or KAIPM_SANDBOXES=off)"
        }
        return "on (\(runtime.supervisor), \(runtime.bubblewrap)); a network grant is all-or-nothing for now"
    }
}

/// Observes one plugin's sandbox: the supervisor's lock, its status file and the registry's record.
enum SandboxObservation {
    static func observe(root: String, plugin id: String, record: SandboxRecord?) -> ObservedSandbox {
        let read = read(root: root, plugin: id)
        return observe(read.status, locked: read.locked, record: record)
    }

    /// The plugin's status file, and whether its supervisor still holds the plugin's lock.
    static func read(root: String, plugin id: String) -> (status: SupervisorStatus?, locked: Bool) {
        let layout = SandboxLayout(root: root, pluginID: id)
        var status = (try? SupervisorStatus.read(layout)) ?? nil
        let locked = status != nil && SupervisorStatus.supervisorAlive(layout)
        if !locked, let running = status, running.exit == nil, let again = (try? SupervisorStatus.read(layout)) ?? nil,
           again.startedAtMilliseconds == running.startedAtMilliseconds {
            // Unlocked without an exit: it died, or it ended between the two reads and says how now.
            status = again
        }
        return (status, locked)
    }

    static func observe(_ status: SupervisorStatus?, locked: Bool, record: SandboxRecord?) -> ObservedSandbox {
        let alive = locked && (status?.state == .starting || status?.state == .running)
        var exitReason = status?.exit?.reason
        if exitReason == nil, status != nil, !locked { exitReason = "SupervisorDied" }
        var observed = ObservedSandbox(alive: alive, state: status?.state.rawValue, treeHash: status?.version, configHash: status?.configHash,
                                       quota: record?.quota, grants: record?.grants, restarts: record?.restarts ?? 0,
                                       exitReason: alive ? nil : exitReason)
        observed.failures = record?.failures ?? 0
        observed.lastStartAt = record?.lastStartAt
        observed.failedTreeHash = record?.failedTreeHash
        observed.failedConfigHash = record?.failedConfigHash
        observed.failedReason = record?.failedReason
        if let isolation = status?.isolation, !isolation.items.isEmpty { observed.sandboxed = !isolation.isUnsandboxed }
        if let status, let record {
            observed.events = events(status, ended: alive ? nil : observed.exitReason, audited: record.audited)
        }
        return observed
    }
}

extension SandboxObservation {
    /// What `kaipm status` shows of a running sandbox: pids, uptime, memory and the isolation in force.
    static func describeRunning(_ running: SupervisorStatus, into status: inout PluginStatus) {
        status.pid = running.sandboxPID
        status.supervisorPID = running.supervisorPID
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        status.uptimeSeconds = Int(max(0, now - running.startedAtMilliseconds) / 1000)
        let v2 = running.cgroups["memory"].map { FileManager.default.fileExists(atPath: $0 + "/memory.current") } ?? false
        let cgroup = SandboxCgroup(pluginID: running.pluginID, version: v2 ? .v2 : .v1, directories: running.cgroups)
        status.memoryBytes = cgroup.memoryInUse()
        let items = running.isolation.items
        status.isolationItems = items.map { IsolationItem(limit: $0.limit, enforced: $0.enforced, detail: $0.detail) }
        status.isolation = summary(running.isolation)
    }

    /// `full, no network`; `weaker: cpu, identity, network granted`; `unsandboxed` (a preloaded
    /// core plugin: no namespaces, the host's network), `unsandboxed, weaker: cpu`.
    static func summary(_ report: IsolationReport) -> String {
        let weaker = report.notEnforced.map(\.limit)
        if report.isUnsandboxed {
            return weaker.isEmpty ? "unsandboxed" : "unsandboxed, weaker: " + weaker.joined(separator: ", ")
        }
        let network = report["network"]?.detail.hasPrefix("granted") == true ? "network granted" : "no network"
        return (weaker.isEmpty ? "full" : "weaker: " + weaker.joined(separator: ", ")) + ", " + network
    }
}

/// A start that did not end with the plugin answering `health`.
struct SandboxStartFailure: Error, CustomStringConvertible {
    var message: String
    var logTail: String?
    var description: String {
        guard let logTail, !logTail.isEmpty else { return message }
        return message + "\n--- log tail\n" + logTail
    }
}

/// Starts and stops one host's sandboxes for the executor.
struct SandboxController {
    let runtime: SandboxRuntime
    let layout: HostLayout
    let store: PluginStore

    /// The spec of `want`'s sandbox (or of its unsandboxed process, for a preloaded core plugin
    /// whose entry says `sandbox: false`).
    func spec(for want: ResolvedPlugin, uid: UInt32) -> SandboxSpec {
        let config = layout.configFile(want.id)
        let defaults = SandboxResources()
        // At least one core while Python starts and the plugin loads; its own quota after (see SandboxResources.startupCPU).
        let resources = SandboxResources(memoryBytes: want.resources.memoryBytes.map { UInt64(max(0, $0)) } ?? defaults.memoryBytes,
                                         cpu: want.resources.cpu ?? defaults.cpu, pids: want.resources.pids ?? defaults.pids,
                                         startupCPU: 1)
        let grants = SandboxGrants(filesystem: want.grants.filesystem.map {
            FilesystemGrant(path: $0.path, mode: $0.mode == .rw ? .readWrite : .readOnly)
        }, network: !want.grants.network.isEmpty)
        return SandboxSpec(pluginID: want.id, root: layout.root, storeEntry: store.path(for: want.treeHash), dataDir: layout.data(want.id),
                           configFile: FileManager.default.fileExists(atPath: config) ? config : nil,
                           entryPoints: EntryPoints(main: want.main, hooks: want.hooks), grants: grants, resources: resources,
                           identity: SandboxIdentity(uid: uid, gid: uid), allowWeakerIsolation: want.allowWeakerIsolation,
                           version: want.treeHash.value, configHash: want.configHash, bubblewrap: runtime.bubblewrap,
                           sandboxed: want.runsSandboxed)
    }

    /// Starts the supervisor and waits until the plugin loaded (the supervisor says so on its
    /// ready pipe) and answers `health`; on failure stops what was started and throws with the log's tail.
    func start(_ spec: SandboxSpec) throws -> SupervisorHandle {
        let sandboxLayout = SandboxLayout(spec: spec)
        let handle: SupervisorHandle
        do {
            handle = try SupervisorLauncher(executable: runtime.supervisor)
                .start(spec, timeoutMilliseconds: runtime.readyTimeoutMilliseconds, untilLoaded: true)
        } catch {
            if error.code == "Timeout" {
                stop(spec.pluginID, timeouts: spec.timeouts)
                throw SandboxStartFailure(message: "not loaded within \(runtime.readyTimeoutMilliseconds) ms", logTail: Self.logTail(sandboxLayout))
            }
            throw SandboxStartFailure(message: "the supervisor did not start: \(error)", logTail: Self.logTail(sandboxLayout))
        }
        switch handle.load {
        case .loaded?:
            break
        case let .failed(message)?:
            let exit = waitForExit(sandboxLayout, milliseconds: spec.timeouts.unloadMilliseconds + spec.timeouts.killGraceMilliseconds + 2_000)
            throw SandboxStartFailure(message: "the sandbox ended while starting: \(exit?.reason ?? "LoadFailed"): \(exit?.message ?? message)",
                                      logTail: exit?.logTail ?? Self.logTail(sandboxLayout))
        case let .ended(reason, message)?:
            let exit = ((try? SupervisorStatus.read(sandboxLayout)) ?? nil)?.exit
            throw SandboxStartFailure(message: "the sandbox ended while starting: \(exit?.reason ?? reason): \(exit?.message ?? message)",
                                      logTail: exit?.logTail ?? Self.logTail(sandboxLayout))
        case nil:
            throw SandboxStartFailure(message: "the supervisor did not say whether the plugin loaded", logTail: Self.logTail(sandboxLayout))
        }
        do {
            let health = try ControlClient(layout: sandboxLayout).request("health", timeoutMilliseconds: 5_000)
            guard health["loaded"]?.boolValue == true else {
                throw SandboxStartFailure(message: "health says it is not loaded: \(health.text)", logTail: nil)
            }
        } catch {
            stop(spec.pluginID, timeouts: spec.timeouts)
            throw SandboxStartFailure(message: "no healthy answer: \(error)", logTail: Self.logTail(sandboxLayout))
        }
        return handle
    }

    /// The recorded end of a sandbox that is stopping, once its supervisor is gone (nil if it lingers).
    private func waitForExit(_ sandboxLayout: SandboxLayout, milliseconds: Int) -> SupervisorStatus.Exit? {
        _ = waitGone(sandboxLayout, milliseconds: milliseconds)
        return ((try? SupervisorStatus.read(sandboxLayout)) ?? nil)?.exit
    }

    /// Stops a plugin's sandbox if it runs: `unload` (its `onUnload`, then the supervisor's own
    /// SIGTERM → SIGKILL of the sandbox), then SIGTERM and SIGKILL to the supervisor if it lingers.
    /// Returns how it ended; throws only when the supervisor survives SIGKILL.
    @discardableResult
    func stop(_ id: String, timeouts: SandboxTimeouts = SandboxTimeouts()) -> String {
        let sandboxLayout = SandboxLayout(root: layout.root, pluginID: id)
        guard SupervisorStatus.supervisorAlive(sandboxLayout) else { return "not running" }
        let pid = ((try? SupervisorStatus.read(sandboxLayout)) ?? nil)?.supervisorPID
        _ = try? ControlClient(layout: sandboxLayout).request("unload", timeoutMilliseconds: timeouts.unloadMilliseconds + 1_000)
        if waitGone(sandboxLayout, milliseconds: timeouts.unloadMilliseconds + timeouts.killGraceMilliseconds + 2_000) {
            return "unloaded"
        }
        if let pid, pid > 1 { kill(pid, SIGTERM) }
        if waitGone(sandboxLayout, milliseconds: timeouts.unloadMilliseconds + timeouts.killGraceMilliseconds + 1_000) {
            return "terminated"
        }
        if let pid, pid > 1 { kill(pid, SIGKILL) }
        _ = waitGone(sandboxLayout, milliseconds: 2_000)
        return "killed"
    }

    private func waitGone(_ sandboxLayout: SandboxLayout, milliseconds: Int) -> Bool {
        let deadline = Date().addingTimeInterval(Double(milliseconds) / 1000)
        while SupervisorStatus.supervisorAlive(sandboxLayout) {
            if Date() > deadline { return false }
            usleep(10_000)
        }
        return true
    }

    /// The last 2 KiB of the plugin's console log.
    static func logTail(_ sandboxLayout: SandboxLayout, bytes: Int = 2048) -> String? {
        guard let handle = FileHandle(forReadingAtPath: sandboxLayout.logFile) else { return nil }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        try? handle.seek(toOffset: size > UInt64(bytes) ? size - UInt64(bytes) : 0)
        guard let data = try? handle.readToEnd() else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}

