/// One plugin as the desired state asks for it: `plugins/<id>.yaml`.
public struct DesiredPlugin: Sendable, Hashable {
    /// Which hosts a plugin is for: every label must match, and the host must be listed if names are.
    public struct HostSelector: Sendable, Hashable, Codable {
        public var labels: [String: String]
        public var names: [String]

        public init(labels: [String: String] = [:], names: [String] = []) {
            self.labels = labels
            self.names = names
        }

        public func matches(_ host: HostSpec) -> Bool {
            (names.isEmpty || names.contains(host.name))
                && labels.allSatisfy { host.labels[$0.key] == $0.value }
        }
    }

    /// Which end users may enable the plugin, and whether it starts enabled for them.
    public struct UsersPolicy: Sendable, Hashable, Codable {
        /// User ids, or `["*"]` for everyone; empty means no end user may enable it.
        public var allow: [String]
        public var enabledByDefault: Bool

        public init(allow: [String] = [], enabledByDefault: Bool = false) {
            self.allow = allow
            self.enabledByDefault = enabledByDefault
        }

        public func allows(_ user: String) -> Bool { allow.contains("*") || allow.contains(user) }
    }

    public var id: String
    /// The YAML file this entry came from, for messages.
    public var file: String
    public var version: SemanticVersion
    public var source: PluginSource
    public var checksum: TreeHash?
    public var active: Bool
    /// Suspended plugins are left exactly as they are by the reconciler (Flux's `suspend`).
    public var suspend: Bool
    public var dependsOn: [String]
    public var grants: Grants
    public var resources: Resources
    public var users: UsersPolicy
    public var hosts: HostSelector
    /// Core plugins may run without a sandbox if the desired state says so (`sandbox: false`).
    public var sandbox: Bool

    public init(id: String, file: String, version: SemanticVersion, source: PluginSource,
                checksum: TreeHash? = nil, active: Bool = true, suspend: Bool = false,
                dependsOn: [String] = [], grants: Grants = Grants(), resources: Resources = Resources(),
                users: UsersPolicy = UsersPolicy(), hosts: HostSelector = HostSelector(), sandbox: Bool = true) {
        self.id = id
        self.file = file
        self.version = version
        self.source = source
        self.checksum = checksum
        self.active = active
        self.suspend = suspend
        self.dependsOn = dependsOn
        self.grants = grants
        self.resources = resources
        self.users = users
        self.hosts = hosts
        self.sandbox = sandbox
    }

    /// A plugin id: lowercase letters, digits and dashes, starting with a letter, at most 64 long.
    public static func isValidID(_ id: String) -> Bool {
        guard let first = id.utf8.first, first >= 0x61 && first <= 0x7a, id.utf8.count <= 64 else { return false }
        return id.utf8.allSatisfy { c in (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c == 0x2d }
    }

    /// Parses a plugin entry; the id must match the file name.
    static func read(_ root: YAMLNode, file: String, expectedID: String) -> (DesiredPlugin?, [Diagnostic]) {
        var reader = MappingReader(root, context: "plugin entry", plugin: expectedID)
        checkHeader(&reader, kind: "Plugin")
        let id = reader.string("id", required: true, what: "the plugin id, the same as the file name")
        if let id, id != expectedID {
            reader.report("id '\(id)' does not match the file name '\(expectedID).yaml'", at: reader.node("id") ?? root,
                          hint: "rename the file or fix the id")
        }
        let versionText = reader.string("version", required: true, what: "a semantic version like 1.2.0")
        var version: SemanticVersion?
        if let versionText {
            version = SemanticVersion(versionText)
            if version == nil {
                reader.report("version '\(versionText)' is not a semantic version", at: reader.node("version") ?? root,
                              hint: "write MAJOR.MINOR.PATCH, like 1.2.0")
            }
        }
        let source = readSource(&reader)
        var checksum: TreeHash?
        if let text = reader.string("checksum") {
            checksum = TreeHash(text)
            if checksum == nil {
                reader.report("checksum '\(text)' is not an h1: tree hash", at: reader.node("checksum") ?? root,
                              hint: "run 'kaipm hash <dir>' to compute it")
            }
        }
        if let source, !source.isPinnedByRevision, checksum == nil {
            reader.report("a \(source.kind) source requires a 'checksum' pin", at: reader.node("source") ?? root,
                          hint: "run 'kaipm hash <dir>' on the plugin folder and add 'checksum: h1:…'")
        }
        let active = reader.bool("active") ?? true
        let suspend = reader.bool("suspend") ?? false
        let sandbox = reader.bool("sandbox") ?? true
        let dependsOn = reader.strings("dependsOn")
        for dependency in dependsOn where !isValidID(dependency) {
            reader.report("dependsOn entry '\(dependency)' is not a plugin id", at: reader.node("dependsOn") ?? root)
        }
        if dependsOn.contains(expectedID) {
            reader.report("plugin depends on itself", at: reader.node("dependsOn") ?? root)
        }
        var grants = Grants()
        if var nested = reader.mapping("grants") {
            grants = Grants.read(&nested)
            reader.absorb(nested.diagnostics)
        }
        var resources = Resources()
        if var nested = reader.mapping("resources") {
            resources = Resources.read(&nested)
            reader.absorb(nested.diagnostics)
        }
        var users = UsersPolicy()
        if var nested = reader.mapping("users") {
            users.allow = nested.strings("allow")
            users.enabledByDefault = nested.bool("enabledByDefault") ?? false
            nested.finish()
            reader.absorb(nested.diagnostics)
        }
        var hosts = HostSelector()
        if var nested = reader.mapping("hosts") {
            hosts.labels = nested.stringMap("labels")
            hosts.names = nested.strings("names")
            nested.finish()
            reader.absorb(nested.diagnostics)
        }
        reader.finish()
        guard reader.diagnostics.isEmpty, let version, let source else { return (nil, reader.diagnostics) }
        let plugin = DesiredPlugin(id: expectedID, file: file, version: version, source: source, checksum: checksum,
                                   active: active, suspend: suspend, dependsOn: dependsOn, grants: grants,
                                   resources: resources, users: users, hosts: hosts, sandbox: sandbox)
        return (plugin, [])
    }

    private static func readSource(_ reader: inout MappingReader) -> PluginSource? {
        guard var nested = reader.mapping("source") else {
            _ = reader.required("source", "where the plugin comes from: path, dir, git or zip")
            return nil
        }
        var found: [PluginSource] = []
        if let path = nested.string("path") {
            if path.hasPrefix("/") || path.split(separator: "/").contains("..") || path.isEmpty {
                nested.report("source path '\(path)' must be relative to the repository root, without '..'",
                              at: nested.node("path") ?? nested.node, hint: "use 'dir:' for a folder on the host")
            } else {
                found.append(.path(path.split(separator: "/").joined(separator: "/")))
            }
        }
        if let dir = nested.string("dir") {
            if Grants.canonicalPath(dir) == nil {
                nested.report("source dir '\(dir)' must be an absolute path without '..'", at: nested.node("dir") ?? nested.node)
            } else {
                found.append(.dir(dir))
            }
        }
        if var git = nested.mapping("git") {
            let url = git.string("url", required: true, what: "the repository URL")
            let tag = git.string("tag")
            let commit = git.string("commit")
            let subdir = git.string("subdir")
            git.finish()
            nested.absorb(git.diagnostics)
            if let url { found.append(.git(url: url, ref: tag, commit: commit, subdir: subdir)) }
        }
        if var zip = nested.mapping("zip") {
            let url = zip.string("url", required: true, what: "the archive URL or path")
            zip.finish()
            nested.absorb(zip.diagnostics)
            if let url { found.append(.zip(url: url)) }
        }
        nested.finish()
        reader.absorb(nested.diagnostics)
        guard found.count == 1 else {
            if nested.diagnostics.isEmpty {
                reader.report("source must name exactly one of path, dir, git or zip, found \(found.count)", at: nested.node)
            }
            return nil
        }
        return found[0]
    }
}

/// Checks `apiVersion: kaipm/v1` and `kind:` of a desired-state document.
func checkHeader(_ reader: inout MappingReader, kind: String) {
    if let apiVersion = reader.string("apiVersion"), apiVersion != "kaipm/v1" {
        reader.report("apiVersion '\(apiVersion)' is not supported", at: reader.node("apiVersion") ?? reader.node,
                      hint: "use apiVersion: kaipm/v1")
    }
    if let found = reader.string("kind"), found != kind {
        reader.report("kind '\(found)' is wrong for this file", at: reader.node("kind") ?? reader.node,
                      hint: "use kind: \(kind)")
    }
}
