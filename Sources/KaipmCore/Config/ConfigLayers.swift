/// Where one value of a plugin's effective config came from.
public struct ConfigOrigin: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The layers a config is merged from, lowest first.
    public enum Layer: String, Sendable, Hashable, Codable {
        /// A `default` in the plugin's `ui/config.schema.json`.
        case schemaDefault = "schema default"
        /// `config/plugins/<id>.config.yaml` in the desired state.
        case configFile = "config file"
        /// `plugins.<id>.config` in `hosts/<host>.yaml`.
        case hostOverride = "host override"
    }

    public var layer: Layer
    public var location: SourceLocation

    public init(layer: Layer, location: SourceLocation) {
        self.layer = layer
        self.location = location
    }

    /// `config file desired-state/config/plugins/weather.config.yaml:3:17`.
    public var description: String { "\(layer.rawValue) \(location)" }
}

/// A plugin's config as its three layers, each with its YAML positions: the schema's defaults,
/// the desired-state config file, then the host's override, merged key by key.
public struct ConfigLayers: Sendable {
    /// The defaults read from the schema's `default`s.
    public var defaults: ConfigValue
    /// How the plugin's `ui/config.schema.json` is shown in messages.
    public var schemaFile: String
    /// `config/plugins/<id>.config.yaml`, if there is one.
    public var configFile: YAMLNode?
    /// Where the config file is (or would be), for a problem no file position explains.
    public var configFilePath: String
    /// The host file's `plugins.<id>.config`, if any.
    public var hostOverride: YAMLNode?

    public init(defaults: ConfigValue, schemaFile: String, configFile: YAMLNode?, configFilePath: String,
                hostOverride: YAMLNode?) {
        self.defaults = defaults
        self.schemaFile = schemaFile
        self.configFile = configFile
        self.configFilePath = configFilePath
        self.hostOverride = hostOverride
    }

    /// The layers of a plugin selected for a host; `packageDisplay` is how its folder is shown.
    public init(plugin: HostDesiredState.Plugin, package: PluginPackage, packageDisplay: String) {
        let id = plugin.id
        let entry = plugin.desired.file
        let suffix = "plugins/\(id).yaml"
        let prefix = entry.hasSuffix(suffix) ? String(entry.dropLast(suffix.count)) : ""
        self.init(defaults: package.configDefaults, schemaFile: packageDisplay + "/ui/config.schema.json",
                  configFile: plugin.configFile,
                  configFilePath: plugin.configFile?.location.file ?? prefix + "config/plugins/\(id).config.yaml",
                  hostOverride: plugin.hostConfig)
    }

    /// The effective config: defaults, then the file, then the host's override, maps merged key by key.
    /// An empty document adds nothing (it does not wipe the defaults).
    public var merged: ConfigValue {
        var config = defaults
        for layer in [configFile, hostOverride] {
            guard let layer, layer.value != .null else { continue }
            config = config.merged(with: ConfigValue(layer))
        }
        if case .null = config { config = .map([:]) }
        return config
    }

    /// Where the value at `tokens` of the merged config came from.
    ///
    /// A scalar or list comes from the highest layer that has it. A mapping is merged from every
    /// layer that has a mapping there; a problem with it as a whole (a required key missing) is
    /// shown at the config file when that is one of them, since that is where settings live.
    /// `schema` is the parsed schema, for the positions of defaults.
    public func origin(of tokens: [String], schema: YAMLNode?) -> ConfigOrigin {
        var candidates: [(layer: ConfigOrigin.Layer, node: YAMLNode?, location: SourceLocation)] = []
        if let node = hostOverride?.node(at: tokens) {
            candidates.append((.hostOverride, node, node.location))
        }
        if let file = configFile, file.value != .null, let node = file.node(at: tokens) {
            candidates.append((.configFile, node, node.location))
        }
        if defaults.value(at: tokens) != nil {
            if let schema, let node = Self.defaultNode(in: schema, at: tokens[...]) {
                var location = node.location
                location.file = schemaFile
                candidates.append((.schemaDefault, node, location))
            } else {
                candidates.append((.schemaDefault, nil, SourceLocation(file: schemaFile)))
            }
        }
        guard let first = candidates.first else {
            return ConfigOrigin(layer: .configFile, location: SourceLocation(file: configFilePath))
        }
        guard first.node?.isMapping ?? false else { return ConfigOrigin(layer: first.layer, location: first.location) }
        let contributors = candidates.prefix { $0.node?.isMapping ?? false }
        let preferred = contributors.first { $0.layer == .configFile }
            ?? contributors.first { $0.layer == .hostOverride } ?? first
        if tokens.isEmpty && preferred.layer == .schemaDefault {
            // Nothing written yet: the place to write it is the config file.
            return ConfigOrigin(layer: .configFile, location: SourceLocation(file: configFilePath))
        }
        return ConfigOrigin(layer: preferred.layer, location: preferred.location)
    }

    /// Where the key `key` of the mapping at `tokens` is written, for "key not allowed" problems:
    /// the key itself in the layer that supplied it.
    public func keyOrigin(_ key: String, at tokens: [String], schema: YAMLNode?) -> ConfigOrigin {
        var origin = origin(of: tokens + [key], schema: schema)
        switch origin.layer {
        case .hostOverride:
            if let location = hostOverride?.keyLocation(of: key, at: tokens) { origin.location = location }
        case .configFile:
            if let location = configFile?.keyLocation(of: key, at: tokens) { origin.location = location }
        case .schemaDefault:
            break
        }
        return origin
    }

    /// One leaf of the effective config with where it came from, for `kaipm config show`.
    public struct Entry: Sendable, Hashable {
        public var tokens: [String]
        public var value: ConfigValue
        public var origin: ConfigOrigin
        /// `server.port`.
        public var path: String { PointerTokens.dotted(tokens) }
    }

    /// Every leaf of the merged config (lists and empty maps are leaves), sorted by path.
    public func entries(schema: YAMLNode?) -> [Entry] {
        var result: [Entry] = []
        func walk(_ value: ConfigValue, _ tokens: [String]) {
            if case let .map(map) = value, !map.isEmpty {
                for key in map.keys.sorted() {
                    if let inner = map[key] { walk(inner, tokens + [key]) }
                }
            } else if !tokens.isEmpty {
                result.append(Entry(tokens: tokens, value: value, origin: origin(of: tokens, schema: schema)))
            }
        }
        walk(merged, [])
        return result
    }

    /// The schema node a default at `tokens` is written in, following `properties` as
    /// `PluginPackage.schemaDefaults` does; a map assembled from nested defaults is the schema node.
    static func defaultNode(in schema: YAMLNode, at tokens: ArraySlice<String>) -> YAMLNode? {
        guard case let .mapping(pairs) = schema.value else { return nil }
        if let explicit = pairs.first(where: { $0.key == "default" }) { return explicit.value.node(at: tokens) }
        guard let first = tokens.first else { return schema }
        guard let properties = pairs.first(where: { $0.key == "properties" }),
              let property = properties.value.node(at: [first]) else { return nil }
        return defaultNode(in: property, at: tokens.dropFirst())
    }
}

extension ConfigValue {
    /// The value at `tokens` (map keys, list indexes), or nil.
    public func value(at tokens: some Sequence<String>) -> ConfigValue? {
        var current = self
        for token in tokens {
            switch current {
            case let .map(map):
                guard let next = map[token] else { return nil }
                current = next
            case let .list(items):
                guard let index = Int(token), items.indices.contains(index) else { return nil }
                current = items[index]
            default:
                return nil
            }
        }
        return current
    }
}
