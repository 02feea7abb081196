extension ShippedSchema {
    /// Checks `kos.config.yaml`, `plugins/*.yaml` and `hosts/*.yaml` of a desired-state tree against
    /// their schemas; `prefix` is how paths are shown (`desired-state/`). A file that cannot be
    /// read or parsed is skipped: the desired-state reader reports it already.
    public static func checkDesiredState(in tree: some FileTree, prefix: String) -> [Diagnostic] {
        var paths: [String] = tree.exists("kos.config.yaml") ? ["kos.config.yaml"] : []
        for folder in ["plugins", "hosts"] {
            let entries = (try? tree.entries(under: folder)) ?? []
            paths += entries.filter { !$0.path.contains("/") && $0.path.hasSuffix(".yaml") && $0.kind != .symlink && $0.kind != .other }
                .map { folder + "/" + $0.path }
        }
        var problems: [Diagnostic] = []
        for path in paths {
            guard let schema = forDesiredStatePath(path), let bytes = try? tree.contents(of: path),
                  let document = try? YAMLDocument.parse(bytes, file: prefix + path) else { continue }
            problems += schema.validate(document)
        }
        return problems
    }

    /// Checks `plugin.json` and `manifest.yaml` of the plugin folder `root` in `tree` against their
    /// schemas; `display` is how the folder is shown. Missing or unparsable files are skipped: the
    /// package reader reports them.
    public static func checkPackage(in tree: some FileTree, under root: String, display: String, plugin: String?) -> [Diagnostic] {
        var problems: [Diagnostic] = []
        for (name, schema) in [("plugin.json", ShippedSchema.plugin), ("manifest.yaml", .manifest)] {
            let path = root.isEmpty ? name : root + "/" + name
            guard let bytes = try? tree.contents(of: path),
                  let document = try? YAMLDocument.parse(bytes, file: display + "/" + name) else { continue }
            problems += schema.validate(document).map { problem in
                var problem = problem
                problem.pluginID = plugin
                return problem
            }
        }
        return problems
    }
}
