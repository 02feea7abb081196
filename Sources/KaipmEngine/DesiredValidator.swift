import Foundation
import KaipmCore
import KaipmStore

/// `kaipm validate`: every problem of a desired-state tree, without a host.
public enum DesiredValidator {
    /// What validation found.
    public struct Report: Sendable, Codable {
        public var revision: String
        public var errors: [String]
        public var warnings: [String]
        public var plugins: Int
        public var hosts: Int
    }

    /// Parses the tree, then resolves every plugin (packages, hashes, pins, grants, configs against
    /// their schemas) once with no host overrides and once for each host file, so that every entry
    /// and override is checked; then checks every desired-state file, `plugin.json` and
    /// `manifest.yaml` against kaipm's shipped schemas.
    public static func validate(_ source: DesiredSource, limits: TreeLimits = TreeLimits()) throws(EngineError) -> Report {
        let snapshot = try DesiredLoader.locate(source)
        let loaded = try snapshot.parse()
        var errors = Set(loaded.state.allDiagnostics.map(\.description))
        // Where the typed readers found problems, so that the schema check does not say it twice.
        var reported = Set(loaded.state.allDiagnostics.compactMap(\.location))
        var warnings = Set(loaded.state.warnings.map(\.description))
        var resolver = PluginResolver(loaded: loaded, store: PluginStore(directory: "/nonexistent/kaipm-validate-store"),
                                      limits: limits, hashCache: [:])
        var everything = loaded.state
        everything.hosts = [:]
        if var host = try? everything.forHost("(any host)") {
            // Select every plugin, whatever its selector says.
            for (id, plugin) in loaded.state.plugins where host.plugins[id] == nil && host.blocked[id] == nil {
                host.plugins[id] = HostDesiredState.Plugin(desired: plugin, preloaded: loaded.state.kos.preload.contains(id),
                                                           configFile: loaded.state.configs[id], hostConfig: nil)
            }
            for problems in resolver.resolve(host).blocked.values {
                errors.formUnion(problems.map(\.description))
                reported.formUnion(problems.compactMap(\.location))
            }
        }
        for name in loaded.state.hosts.keys.sorted() {
            guard let host = try? loaded.state.forHost(name) else { continue }
            let resolution = resolver.resolve(host)
            for problem in resolution.blocked.values.joined() where !errors.contains(problem.description) {
                errors.insert("host \(name): \(problem)")
                if let location = problem.location { reported.insert(location) }
            }
            warnings.formUnion(resolution.warnings.map(\.description))
        }
        var schemaProblems = ShippedSchema.checkDesiredState(in: snapshot.desiredTree, prefix: snapshot.prefix)
        var packages = Set<String>()
        for id in loaded.state.plugins.keys.sorted() {
            guard let plugin = loaded.state.plugins[id], case let .success(files) = resolver.locate(plugin.source),
                  packages.insert(files.display).inserted else { continue }
            schemaProblems += ShippedSchema.checkPackage(in: files.tree, under: files.root, display: files.display, plugin: id)
        }
        for problem in schemaProblems where problem.location.map({ !reported.contains($0) }) ?? true {
            errors.insert(problem.description)
        }
        // Dependency problems on the "any host" pass are artefacts of ignoring selectors.
        errors = errors.filter { !$0.contains("not desired on host '(any host)'") }
        return Report(revision: loaded.revision, errors: errors.sorted(), warnings: warnings.sorted(),
                      plugins: loaded.state.plugins.count + loaded.state.invalid.count, hosts: loaded.state.hosts.count)
    }
}
