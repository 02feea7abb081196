import KaipmCore

/// A FileTree over a dictionary: the core is pure, so its tests need no disk.
struct MemoryTree: FileTree {
    var files: [String: String]
    var symlinks: Set<String> = []

    init(_ files: [String: String], symlinks: Set<String> = []) {
        self.files = files
        self.symlinks = symlinks
    }

    func entries(under path: String) throws -> [FileTreeEntry] {
        let prefix = path.isEmpty ? "" : path + "/"
        let matching = (Array(files.keys) + Array(symlinks)).filter { $0.hasPrefix(prefix) }
        guard !matching.isEmpty else { throw FileTreeError.notFound(path: path, tree: description) }
        return matching.sorted().map { full in
            let relative = String(full.dropFirst(prefix.count))
            return FileTreeEntry(path: relative, kind: symlinks.contains(full) ? .symlink : .file,
                                 size: files[full]?.utf8.count ?? 0)
        }
    }

    func contents(of path: String) throws -> [UInt8] {
        guard let text = files[path] else { throw FileTreeError.notFound(path: path, tree: description) }
        return Array(text.utf8)
    }

    func identity(of path: String) throws -> String? { nil }

    func exists(_ path: String) -> Bool {
        files[path] != nil || files.keys.contains { $0.hasPrefix(path + "/") }
    }

    var description: String { "memory" }
}

/// A valid plugin entry with overrides of its lines.
func pluginYAML(_ id: String, version: String = "1.0.0", extra: String = "") -> String {
    """
    apiVersion: kaipm/v1
    kind: Plugin
    id: \(id)
    version: \(version)
    source:
      path: plugins-src/\(id)
    \(extra)
    """
}
