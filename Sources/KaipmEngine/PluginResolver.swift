import Foundation
import KaipmCore
import KaipmStore

/// The desired state of one host resolved against plugin sources: what the planner compares.
public struct HostResolution: Sendable, Codable {
    public var resolved: [String: ResolvedPlugin]
    public var blocked: [String: [Diagnostic]]
    public var warnings: [Diagnostic]
    /// Where each resolved plugin's bytes come from, for installs.
    public var sources: [String: PluginSource]
}

/// Where one plugin's files are: a tree and the folder in it.
struct PluginFiles: Sendable {
    var tree: any FileTree
    var root: String
    var display: String
}

/// Resolves desired plugins to tree hashes, packages and merged configs.
struct PluginResolver {
    let loaded: LoadedDesired
    let store: PluginStore
    let limits: TreeLimits
    /// Store entries the observer found intact: their packages are read from the store, and a
    /// pinned plugin whose entry is here needs no hashing at all.
    let intactEntries: Set<TreeHash>
    /// Tree hashes already known by source identity; new ones are added for the caller to persist.
    var hashCache: [String: TreeHash]
    private(set) var newHashes: [String: TreeHash] = [:]
    /// Parsed packages by tree hash, as JSON, from earlier runs; new ones are added for the caller to persist.
    var packageCache: [String: String] = [:]
    private(set) var newPackages: [String: String] = [:]
    /// Config schemas compiled so far, shared by copies of this resolver for the length of a run.
    var configSchemas = ConfigSchemaCache()

    init(loaded: LoadedDesired, store: PluginStore, limits: TreeLimits, hashCache: [String: TreeHash],
         intactEntries: Set<TreeHash> = []) {
        self.loaded = loaded
        self.store = store
        self.limits = limits
        self.hashCache = hashCache
        self.intactEntries = intactEntries
    }

    /// Locates a source's files, or explains why it cannot.
    func locate(_ source: PluginSource) -> Result<PluginFiles, Diagnostic> {
        switch source {
        case let .path(path):
            return .success(PluginFiles(tree: loaded.sourceTree, root: path, display: path))
        case let .dir(dir):
            return .success(PluginFiles(tree: DirectoryTree(root: dir), root: "", display: dir))
        case .git, .zip:
            return .failure(Diagnostic("\(source.kind) sources are not supported by this version of kaipm yet",
                                       hint: "use a path: source in the desired-state repository, or a pinned dir: source"))
        }
    }

    /// `assumed`: plugins outside `host` known to resolve (see `DesiredState.forHost(_:assumed:)`).
    mutating func resolve(_ host: HostDesiredState, assumed: Set<String> = []) -> HostResolution {
        var resolution = HostResolution(resolved: [:], blocked: host.blocked, warnings: host.warnings, sources: [:])
        // Plugins resolve independently (hashing, parsing their package, checking their config):
        // on all cores, against the caches as they were; what they add is merged after.
        let plugins = host.plugins.keys.sorted().compactMap { host.plugins[$0] }
        let resolver = self
        let outcomes = ParallelMap.map(plugins, minimumPerWorker: 16) { resolver.resolvePlugin($0) }
        for (plugin, outcome) in zip(plugins, outcomes) {
            let id = plugin.id
            if let (key, hash) = outcome.newHash {
                hashCache[key] = hash
                newHashes[key] = hash
            }
            if let (key, json) = outcome.newPackage, packageCache[key] == nil {
                packageCache[key] = json
                newPackages[key] = json
            }
            switch outcome.result {
            case let .success(resolved):
                resolution.resolved[id] = resolved
                resolution.sources[id] = plugin.desired.source
            case let .failure(error):
                resolution.blocked[id, default: []] += error.diagnostics
            }
        }
        // A plugin whose dependency could not be resolved is blocked too.
        var changed = true
        while changed {
            changed = false
            for (id, plugin) in resolution.resolved {
                if let missing = plugin.dependsOn.first(where: { resolution.resolved[$0] == nil && !assumed.contains($0) }) {
                    resolution.blocked[id, default: []].append(
                        Diagnostic("depends on '\(missing)', which is blocked", plugin: id, hint: "fix '\(missing)' first"))
                    resolution.resolved[id] = nil
                    resolution.sources[id] = nil
                    changed = true
                }
            }
        }
        return resolution
    }

    /// One plugin's resolution, with what it adds to the hash and package caches.
    struct Outcome: Sendable {
        var result: Result<ResolvedPlugin, DesiredStateError>
        var newHash: (String, TreeHash)?
        var newPackage: (String, String)?
    }

    private func resolvePlugin(_ plugin: HostDesiredState.Plugin) -> Outcome {
        var newHash: (String, TreeHash)?
        var newPackage: (String, String)?
        let result = resolvePlugin(plugin, newHash: &newHash, newPackage: &newPackage)
        return Outcome(result: result, newHash: newHash, newPackage: newPackage)
    }

    private func resolvePlugin(_ plugin: HostDesiredState.Plugin, newHash: inout (String, TreeHash)?,
                               newPackage: inout (String, String)?) -> Result<ResolvedPlugin, DesiredStateError> {
        let desired = plugin.desired
        let id = desired.id
        let entry = SourceLocation(file: desired.file)
        func problem(_ message: String, hint: String? = nil) -> Result<ResolvedPlugin, DesiredStateError> {
            .failure(DesiredStateError([Diagnostic(message, at: entry, plugin: id, hint: hint)]))
        }
        let location: PluginFiles
        switch locate(desired.source) {
        case let .success(found): location = found
        case let .failure(diagnostic):
            return .failure(DesiredStateError([Diagnostic(diagnostic.message, at: entry, plugin: id, hint: diagnostic.hint)]))
        }

        // The tree hash: the pin when there is one, else computed (cached by git tree id).
        var treeHash = desired.checksum
        let identity = try? location.tree.identity(of: location.root)
        let cacheKey = identity.map { "git-tree:\($0)" }
        var computed: TreeHash? = cacheKey.flatMap { hashCache[$0] }
        let pinnedAndStored = treeHash.map { intactEntries.contains($0) } ?? false
        if computed == nil && !pinnedAndStored {
            guard location.tree.exists(location.root) else {
                return problem("source \(desired.source) does not exist\(loaded.pinned ? " at revision \(loaded.revision.prefix(12))" : "")",
                               hint: "commit the plugin folder, or fix the source path")
            }
            do {
                computed = try TreeHasher.hash(location.tree, under: location.root, limits: limits).hash
            } catch {
                return problem("\(error)")
            }
            if let cacheKey, let computed { newHash = (cacheKey, computed) }
        }
        if let pin = treeHash, let computed, pin != computed {
            return problem("checksum mismatch: the entry pins \(pin) but the source \(desired.source) hashes to \(computed)",
                           hint: "if the new content is intended, update 'checksum' in \(desired.file); otherwise restore the source")
        }
        if treeHash == nil { treeHash = computed }
        guard let treeHash else { return problem("cannot determine the plugin's tree hash") }

        // The package: from the cache (it is content-addressed), else from the store when it
        // already holds these bytes, else from the source.
        let package: PluginPackage
        var packageResult: Result<PluginPackage, DesiredStateError>
        if let json = packageCache[treeHash.value],
           let cached = try? JSONDecoder().decode(PluginPackage.self, from: Data(json.utf8)), cached.metadata.id == id {
            packageResult = .success(cached)
        } else if intactEntries.contains(treeHash) {
            packageResult = PluginPackage.read(from: DirectoryTree(root: store.path(for: treeHash)), under: "",
                                               display: location.display, pluginID: id)
        } else {
            packageResult = PluginPackage.read(from: location.tree, under: location.root, display: location.display, pluginID: id)
        }
        if case let .success(found) = packageResult, packageCache[treeHash.value] == nil {
            newPackage = (treeHash.value, PlanRenderer.compactJSON(found))
        }
        switch packageResult {
        case let .success(found): package = found
        case let .failure(error): return .failure(error)
        }
        if package.metadata.version != desired.version {
            return problem("plugin.json has version \(package.metadata.version) but the entry asks for \(desired.version)",
                           hint: "set 'version: \(package.metadata.version)' in \(desired.file), or point the source at version \(desired.version)")
        }
        let excess = package.excessGrants(desired.grants)
        if !excess.isEmpty {
            return problem("grants beyond what manifest.yaml requests: \(excess.joined(separator: ", "))",
                           hint: "add them to the manifest's permissions, or remove the grants")
        }
        if !desired.sandbox && !plugin.preloaded {
            return problem("'sandbox: false' is allowed only for core plugins preloaded in kos.config.yaml",
                           hint: "remove 'sandbox: false' from \(desired.file), or add '\(id)' to preload in kos.config.yaml")
        }
        if !desired.sandbox && package.metadata.sandbox {
            // Both must consent: the admin (the entry) and the plugin's own, hashed plugin.json.
            return problem("'sandbox: false' needs the plugin to say so too, but \(location.display)/plugin.json has \"sandbox\": true (or none)",
                           hint: "set \"sandbox\": false in the plugin's plugin.json, or remove 'sandbox: false' from \(desired.file)")
        }

        // The merged config must satisfy the plugin's schema; each violation names the YAML it came from.
        let checked = configSchemas.check(ConfigLayers(plugin: plugin, package: package, packageDisplay: location.display),
                                          schemaText: package.configSchema, plugin: id)
        guard checked.problems.isEmpty else { return .failure(DesiredStateError(checked.problems)) }
        let config = checked.config

        var resolved = ResolvedPlugin(
            id: id, name: package.metadata.name, version: desired.version, source: desired.source.description,
            treeHash: treeHash, active: desired.active, suspend: desired.suspend, preloaded: plugin.preloaded,
            dependsOn: desired.dependsOn.sorted(), config: config, secretPaths: checked.secretPaths, grants: desired.grants,
            resources: desired.resources.withDefaults(loaded.state.kos.defaultResources), sandbox: desired.sandbox)
        resolved.main = package.manifest.main
        resolved.hooks = package.manifest.hooks
        resolved.allowWeakerIsolation = loaded.state.kos.allowWeakerIsolation
        return .success(resolved)
    }
}
