import Foundation
import Logging
import KaipmCore
import KaipmRegistry
import KaipmSandbox
import KaipmStore

/// Performs a plan's actions through the store, the registry and the config files.
///
/// Each action changes the file system first (store entry, config file) and then records the
/// result in the registry with its audit entry in one transaction. A process killed between the
/// two leaves a state the next reconcile observes and repairs: an unreferenced store entry is
/// collected, a config file that does not match its row is rewritten.
struct PlanExecutor {
    let layout: HostLayout
    let store: PluginStore
    let registry: Registry
    let resolution: HostResolution
    let resolver: PluginResolver
    let revision: String
    let actor: String
    let runID: Int64
    let limits: TreeLimits
    /// Where the staging step's time is logged (debug).
    var logger: Logger? = nil
    /// Starts and stops sandboxes; nil when this reconcile does not run them.
    var sandboxes: SandboxController? = nil
    /// A crashed plugin that had run this long since its last start starts its backoff over.
    var crashResetAfter: Double = 600

    /// What this run did that later actions rely on. During an apply the executor is the
    /// registry's and the store's only writer (the run lock), so it can remember instead of
    /// reading back.
    final class RunMemory: @unchecked Sendable {
        /// The rows this run wrote, so that a plugin's next action need not read its row back.
        var rows: [String: RegisteredPlugin] = [:]
        /// The rows an update of this run replaced, to roll back to when the new version fails to start.
        var previous: [String: RegisteredPlugin] = [:]
        /// Store entries this run's prefetch wrote and synced: known intact, not checked again.
        var freshEntries: Set<TreeHash> = []
    }
    let written = RunMemory()

    /// The current row of `id`: the one this run wrote last, else the registry's.
    private func currentRow(_ id: String) throws -> RegisteredPlugin? {
        if let row = written.rows[id] { return row }
        return try registry.plugin(id)
    }

    /// Records `row` with its audit entry and condition in one transaction, and remembers it.
    private func record(_ row: RegisteredPlugin, audit: AuditDraft, condition: ConditionDraft) throws {
        written.rows[row.id] = nil
        try registry.recordPlugin(row, audit: audit, condition: condition)
        written.rows[row.id] = row
    }

    /// One action that failed, with why.
    struct Failure: Sendable {
        var action: PlanAction
        var message: String
    }

    /// Runs the actions in order. An action of a plugin that already failed, or that depends on
    /// one that did, is skipped; everything else still converges.
    func execute(_ plan: Plan) -> [Failure] {
        // A test seam, not a feature: the crash-safety tests slow actions down to kill a real
        // `kaipm apply` in the middle of a plan (SIGKILL), then check the next run repairs all.
        let pause = ProcessInfo.processInfo.environment["KAIPM_TEST_ACTION_DELAY_MS"].flatMap(UInt32.init) ?? 0
        var failures: [Failure] = []
        var failed = Set<String>()
        let start = DispatchTime.now().uptimeNanoseconds
        var stagedConfigs = prefetch(plan)
        if let logger, !stagedConfigs.isEmpty || !written.freshEntries.isEmpty {
            let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            logger.debug("stage and sync \(written.freshEntries.count) store entries and \(stagedConfigs.count) config files took \(String(format: "%.1f", ms)) ms")
        }
        defer { for temp in stagedConfigs.values { unlink(temp) } }
        func fail(_ action: PlanAction, _ error: any Error) {
            failed.insert(action.plugin)
            failures.append(Failure(action: action, message: "\(error)"))
            let startFailed = action.action == .start || action.action == .restart
            try? registry.setCondition(plugin: action.plugin, type: "Ready", status: "False",
                                       reason: startFailed ? "Failed" : "ApplyFailed",
                                       message: "\(action.action.rawValue) failed: \(error)")
            try? registry.recordEvent(audit(action, detail: ["error": "\(error)"], outcome: "failed"), plugin: action.plugin)
        }
        func blocked(_ action: PlanAction) -> Bool {
            let dependencies = resolution.resolved[action.plugin]?.dependsOn ?? []
            if failed.contains(action.plugin) || dependencies.contains(where: failed.contains) {
                failed.insert(action.plugin)
                return true
            }
            return false
        }
        // Starts and restarts come last (their phase); they run concurrently, below.
        var starts: [PlanAction] = []
        for action in plan.actions {
            if sandboxes != nil, action.action == .start || action.action == .restart {
                starts.append(action)
                continue
            }
            if blocked(action) { continue }
            do {
                try perform(action, stagedConfig: action.action == .configure ? stagedConfigs.removeValue(forKey: action.plugin) : nil)
                if pause > 0 { usleep(pause * 1000) }
            } catch {
                fail(action, error)
            }
        }
        if let sandboxes, !starts.isEmpty {
            startConcurrently(starts, sandboxes: sandboxes, blocked: blocked, fail: fail)
        }
        return failures
    }

    /// Runs the start and restart actions in waves: a plugin starts once the plugins it depends on
    /// that start in this plan are Ready. Within a wave the registry work is done in order on this
    /// thread and the launches (each waiting for its plugin's `load` and `health`) run several at
    /// a time: a start is mostly Python starting, so two cores take several at once.
    private func startConcurrently(_ actions: [PlanAction], sandboxes: SandboxController,
                                   blocked: (PlanAction) -> Bool, fail: (PlanAction, any Error) -> Void) {
        var waiting = actions
        var done = Set<String>()
        let starting = Set(actions.map(\.plugin))
        while !waiting.isEmpty {
            var wave: [PlanAction] = []
            var later: [PlanAction] = []
            for action in waiting {
                let dependencies = resolution.resolved[action.plugin]?.dependsOn ?? []
                if dependencies.contains(where: { starting.contains($0) && !done.contains($0) }) {
                    later.append(action)
                } else {
                    wave.append(action)
                }
            }
            if wave.isEmpty { (wave, later) = (later, []) }  // a cycle cannot be planned; never spin
            var prepared: [PreparedStart] = []
            for action in wave where !blocked(action) {
                do {
                    prepared.append(try prepareStart(action, sandboxes: sandboxes))
                } catch {
                    fail(action, error)
                }
            }
            let launching = prepared
            let began = DispatchTime.now().uptimeNanoseconds
            let results = LaunchResults(count: launching.count)
            let workers = min(launching.count, Self.concurrentStarts)
            // Threads of their own: each launch mostly waits, and Dispatch would run only as many as there are cores.
            let group = DispatchGroup()
            for _ in 0..<workers {
                group.enter()
                let thread = Thread {
                    while let index = results.claim() {
                        results.set(index, Result { try launch(launching[index], sandboxes: sandboxes) })
                    }
                    group.leave()
                }
                thread.stackSize = 1 << 20
                thread.start()
            }
            group.wait()
            if let logger, !launching.isEmpty {
                let ms = Double(DispatchTime.now().uptimeNanoseconds - began) / 1e6
                logger.debug("started \(launching.count) sandbox(es), \(workers) at a time, in \(String(format: "%.1f", ms)) ms")
            }
            for (index, start) in prepared.enumerated() {
                do {
                    try finishStart(start, launched: results.get(index), sandboxes: sandboxes)
                } catch {
                    fail(start.action, error)
                }
            }
            for action in wave { done.insert(action.plugin) }
            waiting = later
        }
    }

    /// How many sandboxes start at once: enough to keep the cores busy while others wait on I/O.
    static let concurrentStarts = max(4, min(16, ProcessInfo.processInfo.activeProcessorCount * 4))

    /// The launches' outcomes, written by the workers at the indexes they claimed.
    private final class LaunchResults: @unchecked Sendable {
        private var results: [Result<SupervisorHandle, any Error>?]
        private var claimed = 0
        private let lock = NSLock()
        init(count: Int) { results = Array(repeating: nil, count: count) }
        /// The next launch to run, in plan order; nil when all are taken.
        func claim() -> Int? {
            lock.withLock {
                guard claimed < results.count else { return nil }
                claimed += 1
                return claimed - 1
            }
        }
        func set(_ index: Int, _ result: Result<SupervisorHandle, any Error>) { lock.withLock { results[index] = result } }
        func get(_ index: Int) -> Result<SupervisorHandle, any Error> {
            lock.withLock { results[index] } ?? .failure(EngineError.stalePlan(reason: "the start did not run"))
        }
    }

    private func audit(_ action: PlanAction, detail extra: [String: String] = [:], outcome: String = "ok") -> AuditDraft {
        var detail: [String: String] = ["reason": action.reason, "revision": revision, "outcome": outcome]
        for change in action.changes {
            detail[change.field] = "\(change.before ?? "∅") → \(change.after ?? "∅")"
        }
        detail.merge(extra) { $1 }
        return AuditDraft(actor: actor, action: action.action.rawValue, detail: PlanRenderer.compactJSON(detail), runID: runID)
    }

    /// `stagedConfig`: the config file `prefetch` wrote and synced for a configure action, to rename into place.
    private func perform(_ action: PlanAction, stagedConfig: String?) throws {
        let id = action.plugin
        switch action.action {
        case .install, .update, .repair:
            guard let want = resolution.resolved[id] else { throw EngineError.stalePlan(reason: "\(id) is no longer resolved") }
            let existing = try currentRow(id)
            try materialize(want, replacingTampered: action.action == .repair)
            try FileManager.default.createDirectory(atPath: layout.data(id), withIntermediateDirectories: true)
            let time = Date().timeIntervalSince1970
            let row = RegisteredPlugin(
                id: id, name: want.name, path: store.path(for: want.treeHash), checksum: want.treeHash.value,
                isActive: existing?.isActive ?? false, version: want.version.description, source: want.source,
                state: (existing?.isActive ?? false) ? "active" : "installed", revision: revision,
                dependsOn: PlanRenderer.compactJSON(want.dependsOn), configJSON: existing?.configJSON,
                configHash: existing?.configHash, installedAt: existing?.installedAt ?? time, updatedAt: time, rowDigest: "")
            try record(row, audit: audit(action),
                                      condition: ConditionDraft(type: "Installed", status: "True",
                                                                reason: action.action == .repair ? "Repaired" : "Installed",
                                                                message: "\(want.version) \(want.treeHash)"))
            if let existing, let old = TreeHash(existing.checksum), old != want.treeHash {
                if sandboxes != nil {
                    // Kept until the new version is Ready: a failed start rolls back to it. The apply's
                    // garbage collection removes whichever entry is no longer registered.
                    written.previous[id] = existing
                } else {
                    try collect(old)
                }
            }
        case .configure:
            guard let want = resolution.resolved[id], var row = try currentRow(id) else {
                throw EngineError.stalePlan(reason: "\(id) is not installed")
            }
            if let stagedConfig {
                try AtomicFile.publish(stagedConfig, to: layout.configFile(id))
            } else {
                try FileManager.default.createDirectory(atPath: layout.configDir, withIntermediateDirectories: true)
                try AtomicFile.write(want.renderedConfig, to: layout.configFile(id), mode: 0o640)
            }
            row.configJSON = PlanRenderer.compactJSON(want.config)
            row.configHash = want.configHash
            row.revision = revision
            try record(row, audit: audit(action),
                                      condition: ConditionDraft(type: "Configured", status: "True", reason: "Rendered",
                                                                message: "config \(want.configHash.prefix(12))"))
        case .activate, .deactivate:
            guard var row = try currentRow(id) else { throw EngineError.stalePlan(reason: "\(id) is not installed") }
            let active = action.action == .activate
            row.isActive = active
            row.state = active ? "active" : "inactive"
            row.revision = revision
            try record(row, audit: audit(action),
                                      condition: ConditionDraft(type: "Ready", status: active ? "True" : "False",
                                                                reason: active ? "Active" : "Inactive",
                                                                message: active ? "active at \(revision.prefix(12))" : "deactivated at \(revision.prefix(12))"))
        case .stop:
            guard let sandboxes else { throw EngineError.stalePlan(reason: "this run does not manage sandboxes") }
            let how = sandboxes.stop(id)
            try registry.setCondition(plugin: id, type: "Ready", status: "False", reason: "Stopped",
                                      message: "stopped (\(how)) at \(revision.prefix(12))")
            try recordStop(id, audit: audit(action, detail: ["stopped": how]))
        case .start, .restart:
            guard let sandboxes else { throw EngineError.stalePlan(reason: "this run does not manage sandboxes") }
            let prepared = try prepareStart(action, sandboxes: sandboxes)
            try finishStart(prepared, launched: Result { try launch(prepared, sandboxes: sandboxes) }, sandboxes: sandboxes)
        case .remove:
            let existing = try currentRow(id)
            written.rows[id] = nil
            try registry.recordRemoved(id, audit: audit(action))
            let config = layout.configFile(id)
            if FileManager.default.fileExists(atPath: config) { try FileManager.default.removeItem(atPath: config) }
            if let old = existing.flatMap({ TreeHash($0.checksum) }) { try collect(old) }
        }
    }

    /// A start or restart with its registry work done, ready to launch.
    struct PreparedStart: Sendable {
        var action: PlanAction
        var want: ResolvedPlugin
        var spec: SandboxSpec
        var uid: UInt32
        /// Whether this restarts the same revision after it died: it counts toward the backoff.
        var crashed: Bool
    }

    /// The registry's part before a start, on the executor's thread: the plugin's uid and the attempt.
    private func prepareStart(_ action: PlanAction, sandboxes: SandboxController) throws -> PreparedStart {
        let id = action.plugin
        guard let want = resolution.resolved[id] else { throw EngineError.stalePlan(reason: "\(id) is no longer resolved") }
        let before = (try? SupervisorStatus.read(SandboxLayout(root: layout.root, pluginID: id))) ?? nil
        // A restart of the same revision after it died counts toward the crash-loop backoff;
        // any other start (a new revision, a config, quota or grant change) resets it.
        let crashed = action.action == .restart && action.reason.hasPrefix("dead")
            && before?.version == want.treeHash.value && before?.configHash == want.configHash
        let uid = try registry.sandboxUID(plugin: id, first: SandboxIdentity.firstUID)
        try registry.recordSandboxAttempt(plugin: id, crashed: crashed, resetAfter: crashResetAfter)
        return PreparedStart(action: action, want: want, spec: sandboxes.spec(for: want, uid: uid), uid: uid, crashed: crashed)
    }

    /// Stops the old sandbox of a restart and starts the new one until Ready; safe on any thread.
    private func launch(_ start: PreparedStart, sandboxes: SandboxController) throws -> SupervisorHandle {
        if start.action.action == .restart { sandboxes.stop(start.action.plugin) }
        return try sandboxes.start(start.spec)
    }

    /// The registry's part after a launch, on the executor's thread: Ready, or a rollback of a failed update.
    private func finishStart(_ start: PreparedStart, launched: Result<SupervisorHandle, any Error>,
                             sandboxes: SandboxController) throws {
        let (action, want, id) = (start.action, start.want, start.action.plugin)
        let handle: SupervisorHandle
        switch launched {
        case let .success(started):
            handle = started
        case let .failure(error):
            if let previous = written.previous[id], let old = TreeHash(previous.checksum), old != want.treeHash, store.contains(old) {
                throw rollback(want, to: previous, old: old, uid: start.uid, sandboxes: sandboxes, error: error)
            }
            throw error
        }
        try registry.recordSandboxStart(plugin: id, quota: want.quotaSignature, grants: want.grantsSignature,
                                        restart: action.action == .restart)
        try registry.recordSandboxFailure(plugin: id, treeHash: nil, configHash: nil, reason: nil)
        if start.crashed {
            try registry.setCondition(plugin: id, type: "CrashLoop", status: "False", reason: "Restarted",
                                      message: "restarted after a crash (\(action.reason)); a crash again backs off longer")
        } else {
            try registry.clearCondition(plugin: id, type: "CrashLoop")
        }
        try registry.setCondition(plugin: id, type: "Ready", status: "True", reason: "Running",
                                  message: "\(want.version) running (supervisor \(handle.pid), uid \(start.uid)) at \(revision.prefix(12))")
        try registry.recordEvent(audit(action, detail: ["supervisorPid": "\(handle.pid)", "uid": "\(start.uid)"]), plugin: id)
    }

    /// Rolls `want`'s failed start back to the version its update replaced: records the failed
    /// revision (not retried until the desired revision changes), registers the previous version
    /// again and starts it. Returns the error the action fails with, which says what happened.
    private func rollback(_ want: ResolvedPlugin, to previous: RegisteredPlugin, old: TreeHash, uid: UInt32,
                          sandboxes: SandboxController, error: any Error) -> any Error {
        let id = want.id
        let failure = error as? SandboxStartFailure
        let reason = failure?.message ?? "\(error)"
        let failed = "update to \(want.version) \(want.treeHash.value.prefix(19)) failed to start: \(reason)"
        do {
            try registry.recordSandboxFailure(plugin: id, treeHash: want.treeHash.value, configHash: want.configHash, reason: reason)
            try registry.recordEvent(AuditDraft(actor: actor, action: "update", detail: PlanRenderer.compactJSON([
                "outcome": "failed", "revision": revision, "checksum": want.treeHash.value, "version": want.version.description,
                "error": reason]), runID: runID), plugin: id)
            sandboxes.stop(id)
            guard var row = try currentRow(id) else { throw EngineError.stalePlan(reason: "\(id) is not installed") }
            row.name = previous.name
            row.path = previous.path
            row.checksum = previous.checksum
            row.version = previous.version
            row.source = previous.source
            row.dependsOn = previous.dependsOn
            row.updatedAt = Date().timeIntervalSince1970
            try record(row, audit: AuditDraft(actor: actor, action: "rollback", detail: PlanRenderer.compactJSON([
                "from": want.treeHash.value, "to": previous.checksum, "version": "\(want.version) → \(previous.version)",
                "revision": revision, "reason": reason]), runID: runID),
                       condition: ConditionDraft(type: "Installed", status: "True", reason: "RolledBack",
                                                 message: "\(previous.version) \(previous.checksum) (\(failed))"))
            // The previous version with the desired entry points, resources and grants.
            var earlier = want
            earlier.treeHash = old
            earlier.version = SemanticVersion(previous.version) ?? want.version
            let handle = try sandboxes.start(sandboxes.spec(for: earlier, uid: uid))
            try registry.recordSandboxStart(plugin: id, quota: want.quotaSignature, grants: want.grantsSignature, restart: true)
            return SandboxStartFailure(message: "\(failed); rolled back to \(previous.version) \(previous.checksum.prefix(19)), running (supervisor \(handle.pid))",
                                       logTail: failure?.logTail)
        } catch let rollbackError {
            return SandboxStartFailure(message: "\(failed); the rollback to \(previous.version) failed too: \(rollbackError)",
                                       logTail: failure?.logTail)
        }
    }

    /// Writes the store entries and config files the plan needs before the actions run in order,
    /// so that a first apply pays for durability once instead of once per plugin.
    ///
    /// Store entries are staged several at a time (creating thousands of files is bound by
    /// file-system latency, not CPU) into one `StoreBatch`, config files are written beside their
    /// final names, then one `syncfs` makes all of it durable and the entries are renamed into
    /// place. The configure actions later only rename their staged file (see `stagedConfigs`).
    /// It is safe ahead of the registry: entries are content-addressed, one left unused by a crash
    /// is collected, and a staged config file left by a crash is removed by `cleanTemporaries`.
    /// A failure here is ignored; the action itself retries and reports it.
    private func prefetch(_ plan: Plan) -> [String: String] {
        let wanted = plan.actions.filter { $0.action == .install || $0.action == .update }
            .compactMap { resolution.resolved[$0.plugin] }
            .filter { !store.contains($0.treeHash) }
        let configures = plan.actions.filter { $0.action == .configure }.compactMap { resolution.resolved[$0.plugin] }
        guard wanted.count + configures.count > 1, let batch = try? store.beginBatch() else { return [:] }
        if !wanted.isEmpty {
            let workers = min(4, wanted.count)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                var index = worker
                while index < wanted.count {
                    _ = try? stage(wanted[index], into: batch)
                    index += workers
                }
            }
        }
        var staged: [String: String] = [:]
        if !configures.isEmpty, (try? FileManager.default.createDirectory(atPath: layout.configDir, withIntermediateDirectories: true)) != nil {
            for want in configures {
                if let temp = try? AtomicFile.stage(want.renderedConfig, for: layout.configFile(want.id), mode: 0o640) {
                    staged[want.id] = temp
                }
            }
        }
        do {
            // The config folder is normally on the store's file system, which the commit syncs; when
            // it is not, it gets its own sync first.
            try AtomicFile.syncFileSystem(of: layout.configDir, unlessSameAs: store.directory)
            for entry in try batch.commit() { written.freshEntries.insert(entry.hash) }
        } catch {
            for temp in staged.values { unlink(temp) }
            return [:]
        }
        return staged
    }

    /// Stages `want`'s bytes into `batch` from its pinned source, unless the store has them.
    private func stage(_ want: ResolvedPlugin, into batch: StoreBatch) throws {
        guard let source = resolution.sources[want.id] else { return }
        guard case let .success(files) = resolver.locate(source) else { return }
        _ = try batch.stage(from: files.tree, under: files.root, expected: want.treeHash, limits: limits)
    }

    /// Makes the store hold `want`'s bytes, re-reading them from the pinned source if the entry
    /// is missing or was tampered with.
    private func materialize(_ want: ResolvedPlugin, replacingTampered: Bool) throws {
        if !replacingTampered, written.freshEntries.contains(want.treeHash) { return }
        if store.contains(want.treeHash) {
            let report = try store.verify(want.treeHash, full: replacingTampered)
            if report.isIntact { return }
            try store.remove(want.treeHash)
        }
        guard let source = resolution.sources[want.id] else { throw EngineError.stalePlan(reason: "no source for \(want.id)") }
        let files: PluginFiles
        switch resolver.locate(source) {
        case let .success(found): files = found
        case let .failure(diagnostic): throw diagnostic
        }
        _ = try store.install(from: files.tree, under: files.root, expected: want.treeHash, limits: limits)
    }

    /// Removes a store entry no registered plugin uses any more.
    private func collect(_ hash: TreeHash) throws {
        if !(try registry.checksums().contains(hash.value)) && store.contains(hash) { try store.remove(hash) }
    }
}
