/// The desired state as one host sees it: selected plugins with the host's overrides applied.
public struct HostDesiredState: Sendable {
    /// One plugin selected for the host, with its config layers not yet merged with schema defaults.
    public struct Plugin: Sendable, Hashable {
        /// The entry, with `active` already overridden by the host.
        public var desired: DesiredPlugin
        public var preloaded: Bool
        /// `config/plugins/<id>.config.yaml`.
        public var configFile: YAMLNode?
        /// `hosts/<host>.yaml` → `plugins.<id>.config`.
        public var hostConfig: YAMLNode?

        public var id: String { desired.id }

        public init(desired: DesiredPlugin, preloaded: Bool, configFile: YAMLNode?, hostConfig: YAMLNode?) {
            self.desired = desired
            self.preloaded = preloaded
            self.configFile = configFile
            self.hostConfig = hostConfig
        }
    }

    public var host: HostSpec
    public var kos: KosConfig
    /// Selected plugins by id.
    public var plugins: [String: Plugin]
    /// Plugins the reconciler must leave alone on this host, with why.
    public var blocked: [String: [Diagnostic]]
    public var warnings: [Diagnostic]

    public init(host: HostSpec, kos: KosConfig, plugins: [String: Plugin], blocked: [String: [Diagnostic]], warnings: [Diagnostic]) {
        self.host = host
        self.kos = kos
        self.plugins = plugins
        self.blocked = blocked
        self.warnings = warnings
    }
}

extension DesiredState {
    /// Selects and overrides for `hostName`. Throws when the host's own file is invalid, since
    /// planning without its overrides could activate what it turns off.
    ///
    /// `assumed`: plugins not loaded (see `load(only:)`) that are known to be selected and valid
    /// on this host, with whether they are active; dependencies on them are checked against that.
    public func forHost(_ hostName: String, assumed: [String: Bool] = [:]) throws(DesiredStateError) -> HostDesiredState {
        if let problems = invalidHosts[hostName] { throw DesiredStateError(problems) }
        let host = hosts[hostName] ?? HostSpec(name: hostName)
        var selected: [String: HostDesiredState.Plugin] = [:]
        var blocked = invalid
        var warnings = self.warnings
        for (id, plugin) in plugins {
            let preloaded = kos.preload.contains(id)
            guard preloaded || plugin.hosts.matches(host) else { continue }
            var desired = plugin
            let override = host.overrides[id]
            if let active = override?.active {
                if preloaded && !active {
                    blocked[id, default: []].append(Diagnostic("host override turns off a preloaded core plugin",
                                                               at: host.file.map { SourceLocation(file: $0) }, plugin: id,
                                                               hint: "remove it from kos.config.yaml preload, or drop the override"))
                    continue
                }
                desired.active = active
            }
            if preloaded { desired.active = true }
            selected[id] = HostDesiredState.Plugin(desired: desired, preloaded: preloaded, configFile: configs[id],
                                                   hostConfig: override?.config)
        }
        for id in host.overrides.keys where selected[id] == nil && blocked[id] == nil && assumed[id] == nil {
            warnings.append(Diagnostic("host override for a plugin not selected for host '\(hostName)'",
                                       at: host.file.map { SourceLocation(file: $0) }, plugin: id))
        }
        // Dependencies must be selected, unblocked, and active when the dependent is.
        var changed = true
        while changed {
            changed = false
            for (id, plugin) in selected {
                for dependency in plugin.desired.dependsOn {
                    var problem: String?
                    if blocked[dependency] != nil {
                        problem = "depends on '\(dependency)', which is blocked"
                    } else if let target = selected[dependency] {
                        if plugin.desired.active && !target.desired.active {
                            problem = "is active but depends on '\(dependency)', which is not"
                        }
                    } else if let active = assumed[dependency] {
                        if plugin.desired.active && !active {
                            problem = "is active but depends on '\(dependency)', which is not"
                        }
                    } else {
                        problem = "depends on '\(dependency)', which is not desired on host '\(hostName)'"
                    }
                    if let problem {
                        blocked[id, default: []].append(Diagnostic(problem, at: SourceLocation(file: plugin.desired.file), plugin: id,
                                                                   hint: "fix '\(dependency)' or its selector, or remove the dependency"))
                        selected[id] = nil
                        changed = true
                        break
                    }
                }
            }
        }
        return HostDesiredState(host: host, kos: kos, plugins: selected, blocked: blocked, warnings: warnings)
    }
}
