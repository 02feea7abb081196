/// The whole desired-state tree at one revision, parsed and validated, before host selection.
public struct DesiredState: Sendable {
    public var kos: KosConfig
    /// Valid plugin entries by id.
    public var plugins: [String: DesiredPlugin]
    /// Plugins whose entry (or config file) is invalid, with why. The reconciler leaves them alone.
    public var invalid: [String: [Diagnostic]]
    /// `config/plugins/<id>.config.yaml` documents by plugin id.
    public var configs: [String: YAMLNode]
    public var hosts: [String: HostSpec]
    /// Host files that are invalid: a reconcile for such a host stops before planning.
    public var invalidHosts: [String: [Diagnostic]]
    /// Problems that block nothing but deserve attention (an orphan config file, say).
    public var warnings: [Diagnostic]

    public init(kos: KosConfig = KosConfig(), plugins: [String: DesiredPlugin] = [:], invalid: [String: [Diagnostic]] = [:],
                configs: [String: YAMLNode] = [:], hosts: [String: HostSpec] = [:],
                invalidHosts: [String: [Diagnostic]] = [:], warnings: [Diagnostic] = []) {
        self.kos = kos
        self.plugins = plugins
        self.invalid = invalid
        self.configs = configs
        self.hosts = hosts
        self.invalidHosts = invalidHosts
        self.warnings = warnings
    }

    /// Every diagnostic, for `kaipm validate`.
    public var allDiagnostics: [Diagnostic] {
        (invalid.values.flatMap { $0 } + invalidHosts.values.flatMap { $0 })
            .sorted { ($0.location?.description ?? "", $0.message) < ($1.location?.description ?? "", $1.message) }
    }

    /// Parses the tree whose root is the desired-state folder. `prefix` is how paths are shown
    /// in messages (`desired-state/`). Throws only when the fleet settings are unusable.
    ///
    /// `only`: read just these plugins' entries and config files (the fleet settings and host
    /// files are always read). For a reconcile that knows the other plugins did not change since
    /// the host converged; what it says about the plugins in `only` is what a full load says.
    public static func load(from tree: some FileTree, prefix: String = "", only: Set<String>? = nil) throws(DesiredStateError) -> DesiredState {
        var state = DesiredState()
        @Sendable func show(_ path: String) -> String { prefix + path }
        func parse(_ path: String) -> Result<YAMLNode, Diagnostic> {
            do {
                let bytes = try tree.contents(of: path)
                return .success(try YAMLDocument.parse(bytes, file: show(path)))
            } catch let diagnostic as Diagnostic {
                return .failure(diagnostic)
            } catch {
                return .failure(Diagnostic("cannot read: \(error)", at: SourceLocation(file: show(path))))
            }
        }

        if tree.exists("kos.config.yaml") {
            switch parse("kos.config.yaml") {
            case let .failure(diagnostic): throw DesiredStateError([diagnostic])
            case let .success(node):
                let (kos, problems) = KosConfig.read(node, file: show("kos.config.yaml"))
                guard problems.isEmpty else { throw DesiredStateError(problems) }
                state.kos = kos
            }
        }

        // Plugin entries are read in order, then parsed on all cores: parsing YAML is most of the
        // cost of a reconcile that has to look at a thousand entries.
        var entries: [(path: String, id: String, bytes: Result<[UInt8], Diagnostic>)] = []
        for (path, id) in yamlFiles(in: tree, folder: "plugins", suffix: ".yaml", into: &state.warnings, show: show) {
            if let only, !only.contains(id) { continue }
            guard DesiredPlugin.isValidID(id) else {
                state.warnings.append(Diagnostic("'\(id)' is not a valid plugin id, file ignored",
                                                 at: SourceLocation(file: show(path)),
                                                 hint: "ids are lowercase letters, digits and dashes, starting with a letter"))
                continue
            }
            do {
                entries.append((path, id, .success(try tree.contents(of: path))))
            } catch {
                entries.append((path, id, .failure(Diagnostic("cannot read: \(error)", at: SourceLocation(file: show(path))))))
            }
        }
        let parsed = ParallelMap.map(entries) { entry -> (DesiredPlugin?, [Diagnostic]) in
            switch entry.bytes {
            case let .failure(diagnostic):
                return (nil, [Diagnostic(diagnostic.message, at: diagnostic.location, plugin: entry.id)])
            case let .success(bytes):
                do throws(Diagnostic) {
                    let node = try YAMLDocument.parse(bytes, file: show(entry.path))
                    return DesiredPlugin.read(node, file: show(entry.path), expectedID: entry.id)
                } catch {
                    return (nil, [Diagnostic(error.message, at: error.location, plugin: entry.id, hint: error.hint)])
                }
            }
        }
        for (entry, (plugin, problems)) in zip(entries, parsed) {
            if let plugin { state.plugins[entry.id] = plugin } else { state.invalid[entry.id, default: []] += problems }
        }

        for (path, id) in yamlFiles(in: tree, folder: "config/plugins", suffix: ".config.yaml", into: &state.warnings, show: show) {
            if let only, !only.contains(id) { continue }
            switch parse(path) {
            case let .failure(diagnostic):
                state.invalid[id, default: []].append(Diagnostic(diagnostic.message, at: diagnostic.location, plugin: id, hint: diagnostic.hint))
                state.plugins[id] = nil
            case let .success(node):
                switch node.value {
                case .mapping, .null: state.configs[id] = node
                default:
                    state.invalid[id, default: []].append(Diagnostic("config must be a mapping of settings, found \(node.typeName)",
                                                                     at: node.location, plugin: id))
                    state.plugins[id] = nil
                }
                if state.plugins[id] == nil && state.invalid[id] == nil {
                    state.warnings.append(Diagnostic("config file for a plugin that has no entry in plugins/",
                                                     at: SourceLocation(file: show(path)), plugin: id))
                }
            }
        }

        for (path, name) in yamlFiles(in: tree, folder: "hosts", suffix: ".yaml", into: &state.warnings, show: show) {
            switch parse(path) {
            case let .failure(diagnostic): state.invalidHosts[name] = [diagnostic]
            case let .success(node):
                let (spec, problems) = HostSpec.read(node, file: show(path), expectedName: name)
                if problems.isEmpty { state.hosts[name] = spec } else { state.invalidHosts[name] = problems }
            }
        }

        for id in state.kos.preload where state.plugins[id] == nil && state.invalid[id] == nil && only?.contains(id) ?? true {
            state.warnings.append(Diagnostic("preloaded plugin '\(id)' has no entry in plugins/",
                                             at: SourceLocation(file: show("kos.config.yaml")),
                                             hint: "add plugins/\(id).yaml or remove it from preload"))
        }
        for (id, plugin) in state.plugins.sorted(by: { $0.key < $1.key })
        where !plugin.sandbox && (!plugin.grants.filesystem.isEmpty || !plugin.grants.network.isEmpty) {
            state.warnings.append(Diagnostic("'\(id)' runs unsandboxed (sandbox: false): its grants are checked but not enforced, it sees the whole host",
                                             at: SourceLocation(file: plugin.file), plugin: id,
                                             hint: "drop the grants, or let it run sandboxed"))
        }
        for (id, plugin) in state.plugins where !state.kos.allowedSources.allows(plugin.source) {
            state.invalid[id, default: []].append(Diagnostic("source \(plugin.source) is not allowed by kos.config.yaml allowedSources",
                                                             at: SourceLocation(file: plugin.file), plugin: id,
                                                             hint: "add its prefix to allowedSources or use an allowed source"))
            state.plugins[id] = nil
        }
        state.blockCycles()
        return state
    }

    /// Lists `<folder>/<name><suffix>` files, returning the path and the name.
    private static func yamlFiles(in tree: some FileTree, folder: String, suffix: String,
                                  into warnings: inout [Diagnostic], show: (String) -> String) -> [(String, String)] {
        guard let entries = try? tree.entries(under: folder) else { return [] }
        var result: [(String, String)] = []
        for entry in entries {
            let path = folder + "/" + entry.path
            guard entry.path.hasSuffix(suffix), !entry.path.contains("/") else {
                if !entry.path.hasPrefix(".") && !entry.path.hasSuffix(".md") {
                    warnings.append(Diagnostic("unexpected file ignored; expected \(folder)/<name>\(suffix)",
                                               at: SourceLocation(file: show(path))))
                }
                continue
            }
            guard entry.kind == .file || entry.kind == .executable else {
                warnings.append(Diagnostic("not a regular file, ignored", at: SourceLocation(file: show(path))))
                continue
            }
            result.append((path, String(entry.path.dropLast(suffix.count))))
        }
        return result
    }

    /// Finds dependency cycles among the valid plugins and blocks every plugin in one,
    /// with a message that names the whole cycle.
    mutating func blockCycles() {
        for cycle in DependencyGraph.cycles(in: plugins.mapValues(\.dependsOn)) {
            let text = (cycle + [cycle[0]]).joined(separator: " → ")
            for id in cycle {
                invalid[id, default: []].append(Diagnostic("dependsOn cycle: \(text)",
                                                           at: plugins[id].map { SourceLocation(file: $0.file) },
                                                           plugin: id, hint: "break the cycle by removing one dependsOn entry"))
                plugins[id] = nil
            }
        }
    }
}
