/// One host's labels and per-host overrides: `hosts/<hostname>.yaml`.
public struct HostSpec: Sendable, Hashable {
    /// What a host changes about one plugin.
    public struct Override: Sendable, Hashable {
        public var active: Bool?
        public var config: YAMLNode?

        public init(active: Bool? = nil, config: YAMLNode? = nil) {
            self.active = active
            self.config = config
        }
    }

    public var name: String
    public var labels: [String: String]
    public var overrides: [String: Override]
    /// The file it came from, or nil for a host with no file (no labels, no overrides).
    public var file: String?

    public init(name: String, labels: [String: String] = [:], overrides: [String: Override] = [:], file: String? = nil) {
        self.name = name
        self.labels = labels
        self.overrides = overrides
        self.file = file
    }

    static func read(_ root: YAMLNode, file: String, expectedName: String) -> (HostSpec, [Diagnostic]) {
        var reader = MappingReader(root, context: "host file")
        checkHeader(&reader, kind: "Host")
        if let name = reader.string("name"), name != expectedName {
            reader.report("name '\(name)' does not match the file name '\(expectedName).yaml'", at: reader.node("name") ?? root)
        }
        var spec = HostSpec(name: expectedName, file: file)
        spec.labels = reader.stringMap("labels")
        if let plugins = reader.node("plugins"), plugins.value != .null {
            if case let .mapping(pairs) = plugins.value {
                for pair in pairs {
                    var nested = MappingReader(pair.value, context: "override of '\(pair.key)'", plugin: pair.key)
                    let active = nested.bool("active")
                    var config = nested.node("config")
                    if let node = config, node.value == .null { config = nil }
                    if let node = config, case .mapping = node.value {} else if let node = config {
                        nested.report("config override must be a mapping, found \(node.typeName)", at: node)
                    }
                    nested.finish()
                    reader.absorb(nested.diagnostics)
                    spec.overrides[pair.key] = Override(active: active, config: config)
                }
            } else {
                reader.report("'plugins' must map plugin ids to overrides, found \(plugins.typeName)", at: plugins)
            }
        }
        reader.finish()
        return (spec, reader.diagnostics)
    }
}
