/// The pure planner: `plan(desired, observed) -> Plan`. No I/O; every decision is here.
public enum Planner {
    /// The text secret values are shown as.
    public static let mask = "(secret)"

    /// What the plan is for: the host and the revision, carried into the plan unchanged.
    public struct Context: Sendable {
        public var host: String
        public var revision: String
        public var pinned: Bool

        public init(host: String, revision: String, pinned: Bool) {
            self.host = host
            self.revision = revision
            self.pinned = pinned
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
        var suspended: [String] = []
        for (id, want) in desired where blocked[id] == nil {
            if want.suspend {
                suspended.append(id)
                continue
            }
            actions += pluginActions(want: want, have: observed.plugins[id])
        }
        for (id, have) in observed.plugins where desired[id] == nil && blocked[id] == nil {
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
            if ra != rb { return a.action.phase <= 1 ? ra > rb : ra < rb }
            return a.plugin < b.plugin
        }
        let blockedList = blocked.keys.sorted().map { id in
            BlockedPlugin(plugin: id, problems: (blocked[id] ?? []).map(\.description))
        }
        return Plan(host: context.host, revision: context.revision, pinned: context.pinned,
                    observedFingerprint: observed.fingerprint, actions: actions, blocked: blockedList,
                    suspended: suspended.sorted(), warnings: warnings.map(\.description))
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
