/// Fleet settings: `kos.config.yaml`.
public struct KosConfig: Sendable, Hashable {
    /// A publisher key trusted to sign plugin manifests.
    public struct PublisherKey: Sendable, Hashable, Codable {
        public var id: String
        /// The Ed25519 public key, base64.
        public var ed25519: String
    }

    /// Which sources plugins may come from; empty lists allow nothing of that kind.
    public struct AllowedSources: Sendable, Hashable {
        /// Repository-relative prefixes for `path:` sources.
        public var paths: [String] = [""]
        /// Absolute folder prefixes for `dir:` sources.
        public var dirs: [String] = []
        /// URL prefixes for `git:` sources.
        public var git: [String] = []
        /// URL prefixes for `zip:` sources.
        public var zip: [String] = []

        public func allows(_ source: PluginSource) -> Bool {
            func under(_ value: String, _ prefixes: [String]) -> Bool {
                prefixes.contains { $0.isEmpty || value == $0 || value.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }
            }
            switch source {
            case let .path(path): return under(path, paths)
            case let .dir(dir): return under(dir, dirs)
            case let .git(url, _, _, _): return git.contains { url.hasPrefix($0) }
            case let .zip(url): return zip.contains { url.hasPrefix($0) }
            }
        }
    }

    /// Core plugins preloaded on every host, whatever their selectors say.
    public var preload: [String] = []
    public var allowedSources = AllowedSources()
    public var defaultResources = Resources(memoryBytes: 256 << 20, cpu: 1.0, pids: 64)
    public var trustedPublisherKeys: [PublisherKey] = []
    /// Seconds between reconciles for the agent and the systemd timer example.
    public var reconcileIntervalSeconds: Int = 300
    /// Opt-in to running plugins when a quota cannot be enforced on a host.
    public var allowWeakerIsolation = false

    public init() {}

    static func read(_ root: YAMLNode, file: String) -> (KosConfig, [Diagnostic]) {
        var config = KosConfig()
        if root.value == .null { return (config, []) }
        var reader = MappingReader(root, context: "kos.config.yaml")
        checkHeader(&reader, kind: "KosConfig")
        config.preload = reader.strings("preload")
        if var sources = reader.mapping("allowedSources") {
            if sources.node("paths") != nil { config.allowedSources.paths = sources.strings("paths") }
            config.allowedSources.dirs = sources.strings("dirs")
            config.allowedSources.git = sources.strings("git")
            config.allowedSources.zip = sources.strings("zip")
            sources.finish()
            reader.absorb(sources.diagnostics)
        }
        if var defaults = reader.mapping("defaults") {
            if var resources = defaults.mapping("resources") {
                config.defaultResources = Resources.read(&resources).withDefaults(config.defaultResources)
                defaults.absorb(resources.diagnostics)
            }
            defaults.finish()
            reader.absorb(defaults.diagnostics)
        }
        if let keys = reader.node("trustedPublisherKeys") {
            switch keys.value {
            case .null:
                break
            case let .sequence(items):
                for item in items {
                    var key = MappingReader(item, context: "publisher key")
                    let id = key.string("id", required: true, what: "a name for the key")
                    let value = key.string("ed25519", required: true, what: "the base64 Ed25519 public key")
                    key.finish()
                    reader.absorb(key.diagnostics)
                    if let value, Base64.decode(value)?.count != 32 {
                        reader.report("publisher key '\(id ?? "?")' is not a base64 Ed25519 public key (32 bytes)", at: item)
                    } else if let id, let value {
                        config.trustedPublisherKeys.append(PublisherKey(id: id, ed25519: value))
                    }
                }
            default:
                reader.report("'trustedPublisherKeys' must be a list of {id, ed25519}, found \(keys.typeName)", at: keys)
            }
        }
        if let interval = reader.node("reconcileInterval") {
            if let text = reader.string(interval, key: "reconcileInterval"), let seconds = parseDuration(text) {
                config.reconcileIntervalSeconds = seconds
            } else {
                reader.report("reconcileInterval must be a duration like 90s, 5m or 1h", at: interval)
            }
        }
        if var isolation = reader.mapping("isolation") {
            config.allowWeakerIsolation = isolation.bool("allowWeaker") ?? false
            isolation.finish()
            reader.absorb(isolation.diagnostics)
        }
        reader.finish()
        return (config, reader.diagnostics)
    }

    /// `90s`, `5m`, `1h`, or plain seconds.
    static func parseDuration(_ text: String) -> Int? {
        let factors: [Character: Int] = ["s": 1, "m": 60, "h": 3600]
        if let last = text.last, let factor = factors[last], let number = Int(text.dropLast()), number > 0 {
            return number * factor
        }
        if let number = Int(text), number > 0 { return number }
        return nil
    }
}
