/// What a plugin may reach beyond its sandbox, granted by the desired state.
public struct Grants: Sendable, Hashable, Codable {
    /// A host path made visible in the sandbox.
    public struct PathGrant: Sendable, Hashable, Codable {
        public enum Mode: String, Sendable, Hashable, Codable { case ro, rw }
        public var path: String
        public var mode: Mode

        public init(path: String, mode: Mode) {
            self.path = path
            self.mode = mode
        }
    }

    /// `host:port` endpoints; any entry turns the network on (all-or-nothing for now).
    public var network: [String]
    public var filesystem: [PathGrant]

    public init(network: [String] = [], filesystem: [PathGrant] = []) {
        self.network = network
        self.filesystem = filesystem
    }

    /// Paths a grant may never expose: kernel interfaces and kaipm's own state.
    static let forbiddenPrefixes = ["/proc", "/sys", "/dev", "/kos/db", "/kos/plugins", "/kos/etc", "/kos/run", "/kos/data"]

    static func read(_ reader: inout MappingReader) -> Grants {
        var grants = Grants()
        grants.network = reader.strings("network")
        for endpoint in grants.network where !endpoint.contains(":") {
            reader.report("network grant '\(endpoint)' must be host:port", at: reader.node,
                          hint: "for example api.weather.example:443")
        }
        if let list = reader.node("filesystem") {
            guard case let .sequence(items) = list.value else {
                reader.report("'filesystem' must be a list of {path, mode}", at: list)
                reader.finish()
                return grants
            }
            for item in items {
                var entry = MappingReader(item, context: "filesystem grant", plugin: reader.plugin)
                let path = entry.string("path", required: true, what: "an absolute path")
                let modeText = entry.string("mode") ?? "ro"
                entry.finish()
                reader.absorb(entry.diagnostics)
                guard let path else { continue }
                guard let mode = PathGrant.Mode(rawValue: modeText) else {
                    reader.report("filesystem grant mode must be 'ro' or 'rw', found '\(modeText)'", at: item)
                    continue
                }
                guard let canonical = canonicalPath(path) else {
                    reader.report("filesystem grant path '\(path)' must be absolute without '..' or '.'", at: item)
                    continue
                }
                if canonical == "/" || forbiddenPrefixes.contains(where: { canonical == $0 || canonical.hasPrefix($0 + "/") }) {
                    reader.report("filesystem grant '\(canonical)' is forbidden", at: item,
                                  hint: "/, /proc, /sys, /dev and kaipm's registry, store, keys and other plugins' data are never granted")
                    continue
                }
                grants.filesystem.append(PathGrant(path: canonical, mode: mode))
            }
        }
        reader.finish()
        return grants
    }

    /// `/a//b/` → `/a/b`; nil for relative paths or `.`/`..` components.
    static func canonicalPath(_ path: String) -> String? {
        guard path.hasPrefix("/") else { return nil }
        let parts = path.split(separator: "/")
        guard !parts.contains(where: { $0 == "." || $0 == ".." }) else { return nil }
        return "/" + parts.joined(separator: "/")
    }
}
