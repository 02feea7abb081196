/// The crash-loop backoff: a crashed plugin is restarted `base · 2^failures` seconds (at most
/// `cap`) after its last start, `failures` counting its consecutive crash restarts.
public struct CrashBackoff: Sendable, Hashable {
    public var base: Double
    public var cap: Double

    public init(base: Double = 10, cap: Double = 300) {
        self.base = base
        self.cap = cap
    }

    public func delay(failures: Int) -> Double {
        guard base > 0 else { return 0 }
        return min(cap, base * pow2(min(max(0, failures), 30)))
    }

    private func pow2(_ n: Int) -> Double { Double(1 << n) }

    static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\((seconds * 1000).rounded() / 1000) s"
    }

    /// A UTC time, `2026-11-26T03:10:00Z`, computed without Foundation.
    public static func timestamp(_ time: Double) -> String {
        let seconds = Int(time.rounded(.up))
        var days = seconds / 86_400
        let rest = seconds % 86_400
        // Civil from days (Howard Hinnant).
        days += 719_468
        let era = days / 146_097
        let doe = days - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        var year = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        if month <= 2 { year += 1 }
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(year)-\(two(month))-\(two(day))T\(two(rest / 3600)):\(two(rest % 3600 / 60)):\(two(rest % 60))Z"
    }
}

/// The pure planner: `plan(desired, observed) -> Plan`. No I/O; every decision is here.
public enum Planner {
    /// The text secret values are shown as.
    public static let mask = "(secret)"

    /// What the plan is for: the host and the revision, carried into the plan unchanged.
    public struct Context: Sendable {
        public var host: String
        public var revision: String
        public var pinned: Bool
        /// Whether kaipm runs active plugins in sandboxes on this host: plans start, stop and
        /// restart actions from each plugin's observed sandbox.
        public var sandboxes: Bool
        /// The clock (seconds since 1970) the crash-loop backoff is measured against: passed in,
        /// so that planning stays pure. Nil never defers a restart.
        public var now: Double?
        public var backoff: CrashBackoff

        public init(host: String, revision: String, pinned: Bool, sandboxes: Bool = false, now: Double? = nil,
                    backoff: CrashBackoff = CrashBackoff()) {
            self.now = now
            self.backoff = backoff
            self.host = host
            self.revision = revision
            self.pinned = pinned
            self.sandboxes = sandboxes
        }
    }

    /// Plans the actions that take `observed` to `desired`.
    ///
    /// - Blocked plugins are left exactly as they are, even when the host has them: an invalid
    ///   entry must never read as "remove this plugin".
    /// - Suspended plugins are left alone too.
    /// - Actions run in phases (deactivate → remove → install/update/repair → configure → activate);
    ///   within a phase dependencies come first, and for deactivate and remove dependents come first.
    public static func plan(desired: [String: ResolvedPlugin], blocked: [String: [Diagnostic]],
                            observed: ObservedState, context: Context, warnings: [Diagnostic] = []) -> Plan {
        var actions: [PlanAction] = []
        var deferred: [DeferredAction] = []
        var suspended: [String] = []
        for (id, want) in desired where blocked[id] == nil {
            if want.suspend {
                suspended.append(id)
                continue
            }
            let have = observed.plugins[id]
            if context.sandboxes, let sandbox = have?.sandbox, sandbox.failedTreeHash == want.treeHash.value,
               sandbox.failedConfigHash == want.configHash {
                // This revision failed to start and was rolled back: not again until it changes.
                let own = pluginActions(want: want, have: have)
                actions += own.filter { $0.action != .update }
                if want.active {
                    let action: ActionKind = sandbox.alive ? .restart : .start
                    deferred.append(DeferredAction(plugin: id, action: own.contains { $0.action == .update } ? .update : action,
                                                   reason: "revision \(want.version) \(want.treeHash.value.prefix(19)) failed to start"
                                                       + (sandbox.failedReason.map { " (\($0))" } ?? "")
                                                       + "; not retried until the desired revision changes",
                                                   kind: "FailedRevision"))
                } else {
                    actions += sandboxActions(want: want, have: have)
                }
                continue
            }
            actions += pluginActions(want: want, have: have)
            if context.sandboxes {
                let sandbox = sandboxActions(want: want, have: have)
                if let restart = sandbox.first, restart.action == .restart, restart.reason.hasPrefix("dead"),
                   let wait = backoffWait(want: want, have: have, context: context) {
                    deferred.append(DeferredAction(plugin: id, action: .restart,
                                                   reason: "\(restart.reason): crash loop, back-off \(CrashBackoff.format(wait.delay))"
                                                       + " after \(have?.sandbox?.failures ?? 0) restart(s); next attempt at \(CrashBackoff.timestamp(wait.until))",
                                                   kind: "CrashLoop", until: wait.until))
                } else {
                    actions += sandbox
                }
            }
        }
        for (id, have) in observed.plugins where desired[id] == nil && blocked[id] == nil {
            if context.sandboxes, let sandbox = have.sandbox, sandbox.alive {
                actions.append(PlanAction(plugin: id, action: .stop, reason: "no longer desired on this host",
                                          changes: [FieldChange(field: "running", before: "true", after: "false")]))
            }
            if have.isActive {
                actions.append(PlanAction(plugin: id, action: .deactivate, reason: "no longer desired on this host",
                                          changes: [FieldChange(field: "active", before: "true", after: "false")]))
            }
            actions.append(PlanAction(plugin: id, action: .remove, reason: "no longer desired on this host",
                                      changes: [FieldChange(field: "version", before: have.version?.description, after: nil),
                                                FieldChange(field: "checksum", before: have.treeHash?.value, after: nil)]))
        }
        var edges: [String: [String]] = [:]
        for (id, have) in observed.plugins { edges[id] = have.dependsOn }
        for (id, want) in desired { edges[id] = want.dependsOn }
        let order = DependencyGraph.order(edges)
        var rank: [String: Int] = [:]
        for (index, id) in order.enumerated() { rank[id] = index }
        actions.sort { a, b in
            if a.action.phase != b.action.phase { return a.action.phase < b.action.phase }
            let (ra, rb) = (rank[a.plugin] ?? 0, rank[b.plugin] ?? 0)
            if ra != rb { return a.action.takesDown ? ra > rb : ra < rb }
            return a.plugin < b.plugin
        }
        let blockedList = blocked.keys.sorted().map { id in
            BlockedPlugin(plugin: id, problems: (blocked[id] ?? []).map(\.description))
        }
        return Plan(host: context.host, revision: context.revision, pinned: context.pinned,
                    observedFingerprint: observed.fingerprint, actions: actions, blocked: blockedList,
                    suspended: suspended.sorted(), warnings: warnings.map(\.description),
                    deferred: deferred.isEmpty ? nil : deferred.sorted { $0.plugin < $1.plugin })
    }

    /// When a dead plugin of the same revision may be restarted, if that is still ahead of `context.now`.
    static func backoffWait(want: ResolvedPlugin, have: ObservedPlugin?, context: Context) -> (delay: Double, until: Double)? {
        guard let now = context.now, let sandbox = have?.sandbox, let last = sandbox.lastStartAt,
              sandbox.treeHash == want.treeHash.value, sandbox.configHash == want.configHash else { return nil }
        let delay = context.backoff.delay(failures: sandbox.failures)
        let until = last + delay
        return until > now ? (delay, until) : nil
    }

    /// The actions for one plugin that is desired.
    static func pluginActions(want: ResolvedPlugin, have: ObservedPlugin?) -> [PlanAction] {
        guard let have else {
            var actions = [PlanAction(plugin: want.id, action: .install, reason: "new plugin",
                                      changes: [FieldChange(field: "version", before: nil, after: want.version.description),
                                                FieldChange(field: "checksum", before: nil, after: want.treeHash.value),
                                                FieldChange(field: "source", before: nil, after: want.source)])]
            actions.append(PlanAction(plugin: want.id, action: .configure, reason: "initial config",
                                      changes: configChanges(from: nil, to: want.config, secrets: want.secretPaths)))
            if want.active {
                actions.append(PlanAction(plugin: want.id, action: .activate, reason: "desired active",
                                          changes: [FieldChange(field: "active", before: "false", after: "true")]))
            }
            return actions
        }
        var actions: [PlanAction] = []
        if have.isActive && !want.active {
            actions.append(PlanAction(plugin: want.id, action: .deactivate, reason: "desired inactive",
                                      changes: [FieldChange(field: "active", before: "true", after: "false")]))
        }
        if have.treeHash != want.treeHash {
            var changes: [FieldChange] = []
            let reason: String
            if have.version != want.version {
                reason = "version \(have.version?.description ?? "?") → \(want.version)"
                changes.append(FieldChange(field: "version", before: have.version?.description, after: want.version.description))
            } else {
                reason = "plugin content changed at the same version"
            }
            changes.append(FieldChange(field: "checksum", before: have.treeHash?.value, after: want.treeHash.value))
            if have.source != want.source {
                changes.append(FieldChange(field: "source", before: have.source, after: want.source))
            }
            actions.append(PlanAction(plugin: want.id, action: .update, reason: reason, changes: changes))
        } else if !have.storeProblems.isEmpty || !have.registryProblems.isEmpty || have.version != want.version
                    || have.source != want.source || have.dependsOn != want.dependsOn {
            var problems = have.storeProblems.map { "store: \($0)" } + have.registryProblems.map { "registry: \($0)" }
            var changes: [FieldChange] = []
            if have.version != want.version {
                problems.append("registry: version is \(have.version?.description ?? "unreadable"), the content is \(want.version)")
                changes.append(FieldChange(field: "version", before: have.version?.description, after: want.version.description))
            }
            if have.source != want.source {
                changes.append(FieldChange(field: "source", before: have.source, after: want.source))
                if problems.isEmpty { problems.append("source moved, same content") }
            }
            if have.dependsOn != want.dependsOn {
                changes.append(FieldChange(field: "dependsOn", before: have.dependsOn.joined(separator: ", "),
                                           after: want.dependsOn.joined(separator: ", ")))
                if problems.isEmpty { problems.append("dependencies changed") }
            }
            actions.append(PlanAction(plugin: want.id, action: .repair, reason: problems.joined(separator: "; "), changes: changes))
        }
        if have.configFileHash != want.configHash || have.recordedConfigHash != want.configHash {
            let changes = configChanges(from: have.config, to: want.config, secrets: want.secretPaths.union(have.secretPaths))
            let reason: String
            if !changes.isEmpty {
                reason = "config changed"
            } else if have.configFileHash == nil {
                reason = "config file is missing"
            } else {
                reason = "config file was edited out of band"
            }
            actions.append(PlanAction(plugin: want.id, action: .configure, reason: reason, changes: changes))
        }
        if !have.isActive && want.active {
            actions.append(PlanAction(plugin: want.id, action: .activate, reason: "desired active",
                                      changes: [FieldChange(field: "active", before: "false", after: "true")]))
        }
        return actions
    }

    /// The sandbox actions for one desired plugin: start it when it should run and does not,
    /// restart it when what runs is not what is desired (or it died), stop it when it should not run.
    /// An unsandboxed core plugin (`runsSandboxed` false) is started, stopped and restarted alike.
    static func sandboxActions(want: ResolvedPlugin, have: ObservedPlugin?) -> [PlanAction] {
        let sandbox = have?.sandbox ?? ObservedSandbox(alive: false)
        guard want.active else {
            return sandbox.alive
                ? [PlanAction(plugin: want.id, action: .stop, reason: "desired inactive",
                              changes: [FieldChange(field: "running", before: "true", after: "false")])]
                : []
        }
        guard sandbox.alive else {
            // A reviewer must see that a plugin is about to run without bubblewrap.
            func unsandboxed(_ last: Bool?) -> [FieldChange] {
                guard !want.runsSandboxed, last != false else { return [] }
                return [FieldChange(field: "running.isolation", before: last.map { $0 ? "sandboxed" : "unsandboxed" }, after: want.isolation)]
            }
            // Active in the registry and a status file left behind: it ran and died.
            if let have, have.isActive, sandbox.state != nil {
                let how = sandbox.exitReason.map { " (\($0))" } ?? ""
                // Stopped on request by someone else (SIGTERM to its supervisor, an `unload`): the
                // desired state still says active, so it starts again at once; a crash backs off.
                let orderly = sandbox.exitReason == "Stopped" || sandbox.exitReason == "Unloaded"
                return [PlanAction(plugin: want.id, action: .restart, reason: orderly ? "stopped outside kaipm\(how)" : "dead\(how)",
                                   changes: [FieldChange(field: "running", before: "false", after: "true")] + unsandboxed(sandbox.sandboxed))]
            }
            return [PlanAction(plugin: want.id, action: .start, reason: "not running",
                               changes: [FieldChange(field: "running", before: "false", after: "true")] + unsandboxed(nil))]
        }
        var reasons: [String] = []
        var changes: [FieldChange] = []
        if sandbox.treeHash != want.treeHash.value {
            reasons.append("version changed")
            changes.append(FieldChange(field: "running.checksum", before: sandbox.treeHash, after: want.treeHash.value))
        }
        if sandbox.configHash != want.configHash {
            reasons.append("config changed")
            changes.append(FieldChange(field: "running.configHash", before: sandbox.configHash, after: want.configHash))
        }
        if sandbox.quota != want.quotaSignature {
            reasons.append("quota changed")
            changes.append(FieldChange(field: "running.quota", before: sandbox.quota, after: want.quotaSignature))
        }
        if sandbox.grants != want.grantsSignature {
            reasons.append("grants changed")
            changes.append(FieldChange(field: "running.grants", before: sandbox.grants, after: want.grantsSignature))
        }
        if let running = sandbox.sandboxed, running != want.runsSandboxed {
            reasons.append("isolation changed")
            changes.append(FieldChange(field: "running.isolation", before: running ? "sandboxed" : "unsandboxed", after: want.isolation))
        }
        guard !reasons.isEmpty else { return [] }
        return [PlanAction(plugin: want.id, action: .restart, reason: reasons.joined(separator: ", "), changes: changes)]
    }

    /// Key-by-key config changes, secrets masked.
    public static func configChanges(from before: ConfigValue?, to after: ConfigValue, secrets: Set<String>) -> [FieldChange] {
        let old = before?.flattened() ?? [:]
        let new = after.flattened()
        var changes: [FieldChange] = []
        for key in Set(old.keys).union(new.keys).sorted() where old[key] != new[key] && !key.isEmpty {
            let secret = ConfigSecrets.isSecret(key, in: secrets)
            changes.append(FieldChange(field: "config.\(key)",
                                       before: old[key].map { secret ? mask : $0.inlineText },
                                       after: new[key].map { secret ? mask : $0.inlineText }))
        }
        return changes
    }
}
