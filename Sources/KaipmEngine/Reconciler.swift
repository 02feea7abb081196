import Foundation
import Logging
import KaipmCore
import KaipmRegistry
import KaipmStore

/// How one reconcile is run: against which root, from which desired state, for which host.
public struct ReconcileOptions: Sendable {
    public var root: String
    public var source: DesiredSource
    public var host: String
    /// Who is acting, for the audit log (`kaipm@host`, `timer`, a user).
    public var actor: String
    /// Seconds to wait for another run's lock before giving up.
    public var lockWait: Double
    /// Rehash every store byte instead of trusting the stat cache.
    public var fullVerify: Bool
    public var limits: TreeLimits
    /// The command line, written into the lock file so a refused run can say who holds it.
    public var command: String
    /// Where the phases of a run are logged (debug level, with timings).
    public var logger: Logger
    /// Re-read only the plugins whose inputs changed since the host converged (see
    /// `ResolutionInputs`); off, every plugin is parsed and resolved. The plans are the same.
    public var incremental: Bool = true
    /// Runs active plugins in sandboxes (start, stop, restart) with this runtime; nil records
    /// activation in the registry only, as before sandboxes. Defaults to the host's runtime when
    /// bubblewrap and the supervisor are found (`SandboxRuntime.detect`).
    public var sandboxes: SandboxRuntime?
    /// The crash-loop backoff of a crashed plugin's restart (10 s doubling up to 5 min by default).
    public var backoff = CrashBackoff()

    public init(root: String, source: DesiredSource, host: String, actor: String = "kaipm", lockWait: Double = 0,
                fullVerify: Bool = false, limits: TreeLimits = TreeLimits(), command: String = "kaipm",
                logger: Logger = Logger(label: "kaipm", factory: { _ in SwiftLogNoOpLogHandler() }),
                sandboxes: SandboxRuntime? = SandboxRuntime.detect()) {
        self.sandboxes = sandboxes
        self.root = root
        self.source = source
        self.host = host
        self.actor = actor
        self.lockWait = lockWait
        self.fullVerify = fullVerify
        self.limits = limits
        self.command = command
        self.logger = logger
    }
}

/// The result of an apply.
public struct ApplyReport: Sendable {
    public var plan: Plan
    public var runID: Int64
    /// `applied`, `no-op` or `failed`.
    public var outcome: String
    public var failures: [String]
}

/// Observe, plan, act: the reconcile loop for one host.
public struct Reconciler: Sendable {
    public let options: ReconcileOptions
    public let layout: HostLayout

    public init(options: ReconcileOptions) {
        self.options = options
        self.layout = HostLayout(root: options.root)
    }

    /// Opens the registry and store, creating the host layout on first use.
    func openHost() throws(EngineError) -> (Registry, PluginStore) {
        do {
            try layout.create()
        } catch {
            throw EngineError.io(operation: "create the host layout under", path: layout.root, reason: "\(error)")
        }
        do {
            return (try Registry(path: layout.registry), PluginStore(directory: layout.store))
        } catch {
            throw EngineError.registry("\(error)")
        }
    }

    /// Everything a plan is computed from, kept so that apply can act on it.
    struct Planned {
        var plan: Plan
        var resolution: HostResolution
        var resolver: PluginResolver?
        /// The key of the converged-state record this plan may write or did match.
        var desiredKey: String?
        /// What was observed before planning.
        var observed: ObservedState
        /// What the plan was resolved from, to record with the converged state.
        var inputs: ResolutionInputs?
        /// The desired key moved although there is nothing to do: the converged state is re-recorded.
        var refreshConverged = false
    }

    /// Bump when a change of kaipm changes how a revision resolves, so that recorded
    /// converged states of older versions are not trusted.
    static let resolutionVersion = "kaipm-resolution-2"

    /// Logs how long a phase took, with the run's host and revision as metadata.
    func phase<T, E: Error>(_ name: String, _ body: () throws(E) -> T) throws(E) -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer {
            let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            options.logger.debug("\(name) took \(String(format: "%.1f", ms)) ms", metadata: ["host": "\(options.host)"])
        }
        return try body()
    }

    func makePlan(registry: Registry, store: PluginStore) throws(EngineError) -> Planned {
        let snapshot = try phase("locate the revision") { () throws(EngineError) in try DesiredLoader.locate(options.source) }
        options.logger.debug("desired state located", metadata: ["git.revision": "\(snapshot.revision)", "pinned": "\(snapshot.pinned)"])
        let rows: [RegisteredPlugin]
        do {
            rows = try registry.plugins()
        } catch {
            throw EngineError.registry("\(error)")
        }
        let observed = phase("observe \(rows.count) plugin(s)") { observer(registry: registry, store: store).observe(rows, full: options.fullVerify) }
        let desiredKey = snapshot.identity.map { "\(Self.resolutionVersion)|\($0)|\(options.host)" }
        let converged = desiredKey == nil ? nil : try? registry.convergedState(host: options.host)
        let convergedPlan = converged.flatMap { try? JSONDecoder().decode(Plan.self, from: Data($0.planJSON.utf8)) }

        // The no-op fast path: the same revision and the same observed state as the last time the
        // host converged mean the same (empty) plan, so nothing needs parsing or hashing.
        let fingerprint = observed.fingerprint
        if let desiredKey, let converged, converged.desiredKey == desiredKey, converged.fingerprint == fingerprint,
           var plan = convergedPlan, plan.actions.isEmpty, plan.deferred == nil {
            plan.revision = snapshot.revision
            plan.observedFingerprint = fingerprint
            options.logger.debug("converged state unchanged: nothing to parse")
            return Planned(plan: plan, resolution: HostResolution(resolved: [:], blocked: [:], warnings: [], sources: [:]),
                           resolver: nil, desiredKey: desiredKey, observed: observed)
        }

        let scope = "\(Self.resolutionVersion)|\(snapshot.prefix)|\(options.host)"
        let listing = snapshot.pinned && desiredKey != nil
            ? phase("list the desired state's objects") { DesiredListing.read(snapshot.desiredTree) } : nil
        // A new revision of a host that converged and was not touched since: only the plugins whose
        // inputs changed are parsed and planned.
        if options.incremental, let listing, let converged, converged.fingerprint == fingerprint,
           let previous = converged.inputs.flatMap(ResolutionInputs.decode), previous.scope == scope,
           previous.global == listing.global, let convergedPlan, convergedPlan.actions.isEmpty,
           convergedPlan.blocked.isEmpty, convergedPlan.warnings.isEmpty, convergedPlan.deferred == nil,
           let planned = try incrementalPlan(snapshot: snapshot, listing: listing, previous: previous, previousPlan: convergedPlan,
                                             observed: observed, desiredKey: desiredKey, registry: registry, store: store) {
            return planned
        }

        let loaded = try phase("parse the desired state") { () throws(EngineError) in try snapshot.parse() }
        let host: HostDesiredState
        do {
            host = try loaded.state.forHost(options.host)
        } catch {
            throw EngineError.invalidDesiredState(error)
        }
        var resolver = makeResolver(loaded: loaded, observed: observed, registry: registry, store: store)
        resolver.packageCache = (try? registry.cachedPackages()) ?? [:]
        let resolution = phase("resolve \(host.plugins.count) plugin(s)") { resolver.resolve(host) }
        try? registry.cacheTreeHashes(resolver.newHashes)
        try? registry.cachePackages(resolver.newPackages)
        let plan = Planner.plan(desired: resolution.resolved, blocked: resolution.blocked,
                                observed: Self.withPreviousSecrets(observed, resolution: resolution, packages: resolver.packageCache),
                                context: planContext(revision: loaded.revision, pinned: loaded.pinned),
                                warnings: resolution.warnings)
        var inputs: ResolutionInputs?
        if let listing {
            var all = ResolutionInputs(scope: scope, global: listing.global, plugins: [:])
            for id in listing.entries.keys {
                all.plugins[id] = Self.pluginInputs(id, listing: listing, loaded: loaded, resolution: resolution)
            }
            inputs = all
        }
        return Planned(plan: plan, resolution: resolution, resolver: resolver, desiredKey: desiredKey, observed: observed,
                       inputs: inputs)
    }

    /// The planner's context: the clock is read here, so that the planner stays pure.
    func planContext(revision: String, pinned: Bool) -> Planner.Context {
        Planner.Context(host: options.host, revision: revision, pinned: pinned, sandboxes: options.sandboxes != nil,
                        now: Date().timeIntervalSince1970, backoff: options.backoff)
    }

    /// The host observer, observing sandboxes when this reconcile runs them.
    func observer(registry: Registry, store: PluginStore) -> HostObserver {
        var observer = HostObserver(layout: layout, store: store)
        if options.sandboxes != nil { observer.sandboxes = (try? registry.sandboxRecords()) ?? [:] }
        return observer
    }

    func makeResolver(loaded: LoadedDesired, observed: ObservedState, registry: Registry, store: PluginStore) -> PluginResolver {
        let cache = (try? registry.cachedTreeHashes()) ?? [:]
        let intact = Set(observed.plugins.values.filter { $0.storeProblems.isEmpty }.compactMap(\.treeHash))
        return PluginResolver(loaded: loaded, store: store, limits: options.limits, hashCache: cache, intactEntries: intact)
    }

    /// The plan of a new revision for a host that converged on `previous` and was not touched
    /// since: the plugins whose entry, config file or source changed, and those depending on them,
    /// are parsed, resolved and planned as a full reconcile would; the others are known to need
    /// nothing. Nil when too much changed for this to pay (the caller does the full reconcile).
    func incrementalPlan(snapshot: DesiredSnapshot, listing: DesiredListing, previous: ResolutionInputs, previousPlan: Plan,
                         observed: ObservedState, desiredKey: String?, registry: Registry,
                         store: PluginStore) throws(EngineError) -> Planned? {
        // A config file without an entry makes a warning that only a full load gives.
        for id in listing.configs.keys where listing.entries[id] == nil { return nil }
        var changed = Set<String>()
        let start = DispatchTime.now().uptimeNanoseconds
        defer {
            options.logger.debug("incremental plan (compare inputs, parse, resolve, plan) took \(String(format: "%.1f", Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)) ms")
        }
        var sources = SourceIdentities(tree: snapshot.sourceTree)
        for id in Set(previous.plugins.keys).union(listing.entries.keys) {
            guard let was = previous.plugins[id], let entry = listing.entries[id],
                was.entry == entry, was.config == listing.configs[id] ?? "-"
            else {
                changed.insert(id)
                continue
            }
            switch was.source {
            case "-", "pinned": break
            case "volatile": changed.insert(id)
            default:
                if sources.identity(of: was.sourcePath) != was.source { changed.insert(id) }
            }
        }
        // Whoever depends on a changed plugin may resolve differently too.
        var dependents: [String: [String]] = [:]
        for (id, plugin) in previous.plugins {
            for dependency in plugin.dependsOn { dependents[dependency, default: []].append(id) }
        }
        var affected = changed
        var queue = Array(changed)
        while let id = queue.popLast() {
            for dependent in dependents[id] ?? [] where affected.insert(dependent).inserted { queue.append(dependent) }
        }
        guard affected.count <= max(64, previous.plugins.count / 4) else { return nil }
        options.logger.debug("incremental plan", metadata: ["changed": "\(changed.count)", "affected": "\(affected.count)"])

        var plan = previousPlan
        plan.revision = snapshot.revision
        plan.pinned = snapshot.pinned
        plan.observedFingerprint = observed.fingerprint
        var inputs = previous
        guard !affected.isEmpty else {
            return Planned(plan: plan, resolution: HostResolution(resolved: [:], blocked: [:], warnings: [], sources: [:]),
                           resolver: nil, desiredKey: desiredKey, observed: observed, inputs: inputs, refreshConverged: true)
        }

        let loaded = try phase("parse \(affected.count) changed plugin(s)") { () throws(EngineError) in try snapshot.parse(only: affected) }
        var assumed: [String: Bool] = [:]
        for (id, plugin) in previous.plugins where plugin.resolved && !affected.contains(id) { assumed[id] = plugin.active }
        let host: HostDesiredState
        do {
            host = try loaded.state.forHost(options.host, assumed: assumed)
        } catch {
            throw EngineError.invalidDesiredState(error)
        }
        var resolver = makeResolver(loaded: loaded, observed: observed, registry: registry, store: store)
        let resolution = phase("resolve \(host.plugins.count) plugin(s)") { resolver.resolve(host, assumed: Set(assumed.keys)) }
        try? registry.cacheTreeHashes(resolver.newHashes)
        try? registry.cachePackages(resolver.newPackages)
        var touched = ObservedState()
        for id in affected { touched.plugins[id] = observed.plugins[id] }
        touched = Self.withPreviousSecrets(touched, resolution: resolution, packages: nil, registry: registry)
        plan = Planner.plan(desired: resolution.resolved, blocked: resolution.blocked, observed: touched,
                            context: planContext(revision: loaded.revision, pinned: loaded.pinned),
                            warnings: resolution.warnings)
        plan.observedFingerprint = observed.fingerprint
        plan.suspended = (previousPlan.suspended.filter { !affected.contains($0) } + plan.suspended).sorted()
        for id in affected {
            inputs.plugins[id] = Self.pluginInputs(id, listing: listing, loaded: loaded, resolution: resolution)
        }
        return Planned(plan: plan, resolution: resolution, resolver: resolver, desiredKey: desiredKey, observed: observed,
                       inputs: inputs)
    }

    /// `observed` with, for each plugin whose config changes along with its package, the config
    /// paths its installed package marks secret: a value the new version no longer declares
    /// secret is still masked in the plan on its way out. Packages come from `packages` (the
    /// resolver's cache) or, when nil, from the registry's package cache, read only if needed.
    static func withPreviousSecrets(_ observed: ObservedState, resolution: HostResolution, packages: [String: String]?,
                                    registry: Registry? = nil) -> ObservedState {
        var result = observed
        var cache = packages
        for (id, want) in resolution.resolved {
            guard let have = observed.plugins[id], let old = have.treeHash, old != want.treeHash,
                have.recordedConfigHash != want.configHash
            else { continue }
            if cache == nil { cache = (try? registry?.cachedPackages()) ?? [:] }
            guard let json = cache?[old.value],
                let package = try? JSONDecoder().decode(PluginPackage.self, from: Data(json.utf8))
            else { continue }
            result.plugins[id]?.secretPaths = package.secretPaths
        }
        return result
    }

    /// What plugin `id` was resolved from, or nil when the revision has no entry for it.
    static func pluginInputs(_ id: String, listing: DesiredListing, loaded: LoadedDesired,
                             resolution: HostResolution) -> ResolutionInputs.Plugin? {
        guard let entry = listing.entries[id] else { return nil }
        let desired = loaded.state.plugins[id]
        let resolved = resolution.resolved[id]
        var sourcePath = ""
        var source = "-"
        if resolved != nil, let origin = resolution.sources[id] {
            switch origin {
            case let .path(path):
                sourcePath = path
                source = ((try? loaded.sourceTree.identity(of: path)) ?? nil) ?? "volatile"
            case .dir:
                source = desired?.checksum != nil ? "pinned" : "volatile"
            default:
                source = "volatile"
            }
        }
        return ResolutionInputs.Plugin(entry: entry, config: listing.configs[id] ?? "-", sourcePath: sourcePath, source: source,
                                       resolved: resolved != nil, active: resolved?.active ?? false,
                                       dependsOn: desired?.dependsOn ?? [])
    }

    /// Computes the plan without changing anything but caches. It shows what the sandboxes
    /// reported that apply would audit (`Plan.unaudited`), and audits none of it.
    public func plan() throws(EngineError) -> Plan {
        let (registry, store) = try openHost()
        let planned = try makePlan(registry: registry, store: store)
        var plan = planned.plan
        let unaudited = planned.observed.plugins.compactMapValues { $0.sandbox?.events.isEmpty == false ? $0.sandbox?.events : nil }
        plan.unaudited = unaudited.isEmpty ? nil : unaudited
        return plan
    }

    /// Converges the host. With `saved`, applies exactly that plan or refuses when the revision
    /// or the observed state moved since it was made.
    public func apply(saved: Plan? = nil) throws(EngineError) -> ApplyReport {
        let startedAt = Date().timeIntervalSince1970
        let (registry, store, lock) = try phase("open the host") { () throws(EngineError) in
            let (registry, store) = try openHost()
            let lock = try ReconcileLock(path: layout.lockFile, wait: options.lockWait, command: options.command)
            do {
                try registry.markInterruptedRuns()
                try store.cleanTemporaries()
                AtomicFile.cleanTemporaries(in: layout.configDir)
            } catch {
                throw EngineError.registry("\(error)")
            }
            return (registry, store, lock)
        }
        defer { withExtendedLifetime(lock) {} }
        let planned = try makePlan(registry: registry, store: store)
        let plan = planned.plan
        if let saved {
            try checkSaved(saved, against: plan)
        }
        guard let resolver = planned.resolver else {
            // The fast path found nothing to do: record the run in one transaction.
            if planned.refreshConverged {
                recordConvergence(planned, failed: false, registry: registry, store: store)
            }
            let runID = (try? registry.recordFinishedRun(revision: plan.revision, pinned: plan.pinned, host: plan.host,
                                                         actor: options.actor, outcome: "no-op", startedAt: startedAt)) ?? 0
            auditSandboxEvents(planned.observed, registry: registry, runID: runID)
            return ApplyReport(plan: plan, runID: runID, outcome: "no-op", failures: [])
        }
        let runID: Int64
        do {
            runID = try registry.beginRun(revision: plan.revision, pinned: plan.pinned, host: plan.host, actor: options.actor)
        } catch {
            throw EngineError.registry("\(error)")
        }
        // Before the actions: a dead sandbox's end is audited before its restart.
        auditSandboxEvents(planned.observed, registry: registry, runID: runID)
        let executor = PlanExecutor(layout: layout, store: store, registry: registry, resolution: planned.resolution,
                                    resolver: resolver, revision: plan.revision, actor: options.actor, runID: runID,
                                    limits: options.limits, logger: options.logger,
                                    sandboxes: options.sandboxes.map { SandboxController(runtime: $0, layout: layout, store: store) },
                                    crashResetAfter: max(60, options.backoff.cap * 2))
        let failures = phase("execute \(plan.actions.count) action(s)") { executor.execute(plan) }
            .map { "\($0.action.action.rawValue) \($0.action.plugin): \($0.message)" }
        phase("record the outcome") {
            syncBlockedConditions(registry: registry, resolution: planned.resolution, registered: Set(planned.observed.plugins.keys))
            if plan.actions.contains(where: { $0.action == .update || $0.action == .remove || $0.action == .repair }) {
                collectGarbage(registry: registry, store: store)
            }
            // A deferred action is due later: the host has not converged, and the fast path must not say so.
            recordConvergence(planned, failed: !failures.isEmpty || plan.deferred != nil, registry: registry, store: store)
            recordDeferred(plan, registry: registry)
        }
        let outcome = !failures.isEmpty ? "failed" : (plan.hasChanges ? "applied" : "no-op")
        try? registry.finishRun(runID, outcome: outcome, planJSON: plan.hasChanges || !failures.isEmpty ? PlanRenderer.compactJSON(plan) : nil,
                                error: failures.isEmpty ? nil : failures.joined(separator: "\n"))
        return ApplyReport(plan: plan, runID: runID, outcome: outcome, failures: failures)
    }

    /// Remembers what the host converged to, for the no-op fast path; forgets it after a failure.
    func recordConvergence(_ planned: Planned, failed: Bool, registry: Registry, store: PluginStore) {
        guard let key = planned.desiredKey, !failed else {
            try? registry.clearConverged(host: options.host)
            return
        }
        // Only the plugins the plan touched can have changed since they were observed.
        var observed = planned.observed
        let observer = observer(registry: registry, store: store)
        let touched = Set(planned.plan.actions.map(\.plugin))
        if touched.count > 32, let rows = try? registry.plugins() {
            // Many (a first apply): one query and the observer's parallel pass.
            for id in touched { observed.plugins[id] = nil }
            for (id, plugin) in observer.observe(rows.filter { touched.contains($0.id) }, full: false).plugins {
                observed.plugins[id] = plugin
            }
        } else {
            for id in touched {
                guard let row = try? registry.plugin(id) else {
                    observed.plugins[id] = nil
                    continue
                }
                observed.plugins[id] = observer.observe(row, full: false)
            }
        }
        var converged = planned.plan
        converged.actions = []
        let fingerprint = observed.fingerprint
        converged.observedFingerprint = fingerprint
        // Inputs are kept only for a clean plan: the incremental path assumes every plugin it does
        // not re-read was resolved, unblocked and without warnings.
        let inputs = converged.blocked.isEmpty && converged.warnings.isEmpty ? planned.inputs?.encode() : nil
        try? registry.recordConverged(host: options.host, desiredKey: key, fingerprint: fingerprint,
                                      planJSON: PlanRenderer.compactJSON(converged), inputs: inputs)
    }

    /// Audits what the sandboxes' supervisors reported since the last apply (limits hit, ends);
    /// a plugin whose entries cannot be written is logged and retried by the next apply.
    func auditSandboxEvents(_ observed: ObservedState, registry: Registry, runID: Int64) {
        for (plugin, error) in SandboxEventAudit(registry: registry).record(observed, runID: runID) {
            options.logger.warning("could not audit the sandbox's reports: \(error)", metadata: ["plugin.id": "\(plugin)"])
        }
    }

    /// Sets the CrashLoop condition of each plugin whose restart waits out its backoff.
    func recordDeferred(_ plan: Plan, registry: Registry) {
        for deferred in plan.deferred ?? [] where deferred.kind == "CrashLoop" {
            try? registry.setCondition(plugin: deferred.plugin, type: "CrashLoop", status: "True", reason: "BackOff",
                                       message: deferred.reason)
            try? registry.setCondition(plugin: deferred.plugin, type: "Ready", status: "False", reason: "CrashLoop",
                                       message: deferred.reason)
        }
    }

    /// Terraform's stale-plan rule: the same revision, the same observed state, the same actions.
    func checkSaved(_ saved: Plan, against current: Plan) throws(EngineError) {
        guard saved.formatVersion == Plan.currentFormatVersion else {
            throw EngineError.stalePlan(reason: "it has format version \(saved.formatVersion), this kaipm reads \(Plan.currentFormatVersion)")
        }
        guard saved.host == current.host else {
            throw EngineError.stalePlan(reason: "it was made for host '\(saved.host)', this is '\(current.host)'")
        }
        guard saved.revision == current.revision else {
            throw EngineError.stalePlan(reason: "it was made at revision \(saved.revision.prefix(12)), the desired state is now at \(current.revision.prefix(12))")
        }
        guard saved.observedFingerprint == current.observedFingerprint else {
            throw EngineError.stalePlan(reason: "the host's registry, store or config files changed since it was made")
        }
        guard saved.actions == current.actions else {
            throw EngineError.stalePlan(reason: "the actions it lists are not what the same inputs give now")
        }
    }

    /// Sets the Blocked condition on registered plugins the plan left alone, and clears it on the others.
    func syncBlockedConditions(registry: Registry, resolution: HostResolution, registered: Set<String>) {
        guard let current = try? registry.blockedMessages() else { return }
        for id in registered {
            if let problems = resolution.blocked[id] {
                let message = problems.map(\.description).joined(separator: "; ")
                if current[id] != message {
                    try? registry.setCondition(plugin: id, type: "Blocked", status: "True", reason: "InvalidDesiredState", message: message)
                }
            } else if current[id] != nil {
                try? registry.clearCondition(plugin: id, type: "Blocked")
            }
        }
    }

    /// Removes store entries that no registered plugin uses (after a crash between install and record, say).
    func collectGarbage(registry: Registry, store: PluginStore) {
        guard let checksums = try? registry.checksums() else { return }
        let keep = Set(checksums.compactMap { TreeHash($0) })
        _ = try? store.garbageCollect(keep: keep)
        try? registry.cachePackages([:], keep: Set(keep.map(\.value)))
    }
}
