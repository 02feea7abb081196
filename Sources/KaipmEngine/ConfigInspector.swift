import KaipmCore
import KaipmStore

/// `kaipm config show`: a plugin's effective config, value by value, with where each came from.
public enum ConfigInspector {
    /// One leaf of the effective config.
    public struct Value: Sendable, Codable {
        /// `server.port`.
        public var path: String
        /// The value, or `(secret)`.
        public var value: ConfigValue
        public var secret: Bool
        /// `schema default`, `config file` or `host override`.
        public var source: String
        /// `file:line:column` of the value.
        public var location: String
    }

    /// The effective config of one plugin, for one host or for none.
    public struct Report: Sendable, Codable {
        public var plugin: String
        /// The host whose override is applied; nil shows the config every host starts from.
        public var host: String?
        public var revision: String
        /// The merged config, secrets masked.
        public var config: ConfigValue
        public var values: [Value]
        /// Violations of the plugin's config schema (a plan would block the plugin); empty when valid.
        public var problems: [String]
    }

    /// The effective config of `pluginID`: schema defaults, the desired-state config file, and with
    /// `host` that host's override. Throws when the plugin's entry or package cannot be read.
    public static func show(_ source: DesiredSource, plugin pluginID: String, host: String?,
                            limits: TreeLimits = TreeLimits()) throws(EngineError) -> Report {
        let loaded = try DesiredLoader.load(source)
        let state = loaded.state
        let plugin: HostDesiredState.Plugin
        if let problems = state.invalid[pluginID] {
            throw EngineError.invalidDesiredState(DesiredStateError(problems))
        }
        guard let desired = state.plugins[pluginID] else {
            throw EngineError.unknownPlugin(id: pluginID, reason: "there is no plugins/\(pluginID).yaml at \(loaded.revision)")
        }
        if let host {
            let selected: HostDesiredState
            do {
                selected = try state.forHost(host)
            } catch {
                throw EngineError.invalidDesiredState(error)
            }
            if let problems = selected.blocked[pluginID] {
                throw EngineError.invalidDesiredState(DesiredStateError(problems))
            }
            guard let found = selected.plugins[pluginID] else {
                throw EngineError.unknownPlugin(id: pluginID, reason: "it is not selected for host '\(host)'")
            }
            plugin = found
        } else {
            plugin = HostDesiredState.Plugin(desired: desired, preloaded: state.kos.preload.contains(pluginID),
                                             configFile: state.configs[pluginID], hostConfig: nil)
        }

        let resolver = PluginResolver(loaded: loaded, store: PluginStore(directory: "/nonexistent/kaipm-config-store"),
                                      limits: limits, hashCache: [:])
        let files: PluginFiles
        switch resolver.locate(desired.source) {
        case let .success(found): files = found
        case let .failure(diagnostic):
            throw EngineError.invalidDesiredState(DesiredStateError([diagnostic]))
        }
        let package: PluginPackage
        switch PluginPackage.read(from: files.tree, under: files.root, display: files.display, pluginID: pluginID) {
        case let .success(found): package = found
        case let .failure(error): throw EngineError.invalidDesiredState(error)
        }

        let layers = ConfigLayers(plugin: plugin, package: package, packageDisplay: files.display)
        let checked = resolver.configSchemas.check(layers, schemaText: package.configSchema, plugin: pluginID)
        let values = layers.entries(schema: resolver.configSchemas.schemaNode(for: package.configSchema)).map { entry in
            let secret = ConfigSecrets.isSecret(entry.path, in: checked.secretPaths)
            return Value(path: entry.path, value: secret ? .string(Planner.mask) : entry.value, secret: secret,
                         source: entry.origin.layer.rawValue, location: entry.origin.location.description)
        }
        return Report(plugin: pluginID, host: host, revision: loaded.revision,
                      config: ConfigSecrets.masked(checked.config, secrets: checked.secretPaths), values: values,
                      problems: checked.problems.map(\.description))
    }
}
