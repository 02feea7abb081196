import CLibgit2
import Foundation
import KaipmCore

/// A `FileTree` over a git tree object: a directory of one commit, read straight from the
/// object database. The work tree, the index and the file system are never consulted, so
/// uncommitted edits and untracked files are invisible.
///
/// Performance: the root tree object stays loaded for the life of the value, and every
/// subdirectory looked up is kept too (libgit2's own cache drops trees larger than 4 KiB, which
/// a directory of a thousand plugins is), so reading many files costs one binary search per
/// path component and one blob read. Sizes come from object headers without loading blobs.
///
/// Thread safety: it shares the repository's libgit2 handles, so every call takes the
/// repository's lock (see `GitRepository`); the subtree cache is only touched under that lock.
/// Hence `@unchecked Sendable`.
public final class GitTree: FileTree, @unchecked Sendable {
    /// The repository the tree belongs to (kept alive as long as the tree is).
    public let repository: GitRepository
    /// The commit the tree was taken from.
    public let commit: GitCommit
    /// Where this tree sits inside the commit's tree (`""` for the root).
    public let path: String
    /// The git tree id of this tree's root.
    public let treeID: String
    /// `git:<repository>@<12-hex commit>[:<path>]`.
    public let description: String

    /// Loaded tree objects by path relative to this tree's root; `""` is the root. Owned:
    /// freed in `deinit`. Guarded by `repository.lock`.
    private var subtrees: [String: OpaquePointer]

    /// Further handles on the same repository, each with its own lock, that blobs are read
    /// through: reading a blob (finding it in a pack, inflating it) is most of the cost of hashing
    /// or installing a plugin, and with one handle, and so one lock, threads took turns. Opened on
    /// first use; empty when libgit2 was built without thread support.
    private let readers = ReaderPool()

    final class ReaderPool: @unchecked Sendable {
        private let lock = NSLock()
        private var handles: [GitRepository]?
        private var next = 0

        /// A handle to read through, round robin; nil when only the tree's own may be used.
        func pick(opening gitDirectory: String) -> GitRepository? {
            guard libgit2IsThreadSafe else { return nil }
            return lock.withLock {
                if handles == nil {
                    let count = min(4, max(1, ProcessInfo.processInfo.activeProcessorCount))
                    handles = (0..<count).compactMap { _ in try? GitRepository(path: gitDirectory) }
                }
                guard let handles, !handles.isEmpty else { return nil }
                next = (next + 1) % handles.count
                return handles[next]
            }
        }
    }

    /// Takes ownership of `tree`.
    init(repository: GitRepository, commit: GitCommit, path: String, tree: OpaquePointer) {
        self.repository = repository
        self.commit = commit
        self.path = path
        self.treeID = repository.lock.withLock { hexString(git_tree_id(tree)) }
        self.description = "git:\(repository.path)@\(commit.shortID)" + (path.isEmpty ? "" : ":\(path)")
        self.subtrees = ["": tree]
    }

    deinit {
        repository.lock.withLock {
            for tree in subtrees.values { git_tree_free(tree) }
        }
    }

    // MARK: FileTree

    public func entries(under path: String) throws -> [FileTreeEntry] {
        let components = pathComponents(path)
        let requested = components.joined(separator: "/")
        var result: [FileTreeEntry] = []
        try repository.lock.withLock {
            let tree = try loadedTree(components[...], requested: requested)
            try list(tree, directory: requested, prefix: "", into: &result)
        }
        // Git orders a tree's entries as if directory names ended in "/", which makes the
        // depth-first walk come out in byte order of the full paths already; only a malformed
        // tree needs the sort.
        let inOrder = zip(result, result.dropFirst()).allSatisfy { Self.byteOrder($0.path, $1.path) }
        if !inOrder { result.sort { Self.byteOrder($0.path, $1.path) } }
        return result
    }

    public func contents(of path: String) throws -> [UInt8] {
        let components = pathComponents(path)
        let requested = components.joined(separator: "/")
        var oid = git_oid()
        try repository.lock.withLock {
            guard let entry = try lookUp(components, requested: requested) else {
                throw FileTreeError.notARegularFile(path: requested, tree: description)
            }
            let mode = git_tree_entry_filemode(entry)
            guard mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE else {
                throw FileTreeError.notARegularFile(path: requested, tree: description)
            }
            oid = git_tree_entry_id(entry).pointee
        }
        // The tree's own handle when it is free (a single-threaded reader never opens another),
        // else one of the pool's.
        let own = repository.lock.try()
        let reader = own ? repository : (readers.pick(opening: repository.gitDirectory) ?? repository)
        if !own { reader.lock.lock() }
        defer { reader.lock.unlock() }
        return try {
            var blob: OpaquePointer?
            let rc = git_blob_lookup(&blob, reader.repo, &oid)
            guard rc == 0, let blob else {
                throw FileTreeError.unreadable(path: requested, tree: description, reason: lastGitErrorMessage(rc))
            }
            defer { git_blob_free(blob) }
            let size = Int(git_blob_rawsize(blob))
            guard size > 0, let bytes = git_blob_rawcontent(blob) else { return [] }
            return Array(UnsafeRawBufferPointer(start: bytes, count: size))
        }()
    }

    public func identity(of path: String) throws -> String? {
        let components = pathComponents(path)
        let requested = components.joined(separator: "/")
        return try repository.lock.withLock {
            guard let entry = try lookUp(components, requested: requested) else { return treeID }
            return hexString(git_tree_entry_id(entry))
        }
    }

    /// The entries directly in the folder at `path`, with their object ids and kinds, read from
    /// the tree object alone (no object header per entry, unlike `entries(under:)`): for
    /// comparing many ids at once. Throws as `entries(under:)` does.
    public func children(of path: String) throws -> [(name: String, id: String, kind: FileTreeEntry.Kind?)] {
        let components = pathComponents(path)
        let requested = components.joined(separator: "/")
        return try repository.lock.withLock {
            let tree = try loadedTree(components[...], requested: requested)
            let count = git_tree_entrycount(tree)
            var result: [(name: String, id: String, kind: FileTreeEntry.Kind?)] = []
            result.reserveCapacity(count)
            for index in 0..<count {
                guard let entry = git_tree_entry_byindex(tree, index), let oid = git_tree_entry_id(entry) else { continue }
                let kind: FileTreeEntry.Kind?
                switch git_tree_entry_filemode(entry) {
                case GIT_FILEMODE_BLOB: kind = .file
                case GIT_FILEMODE_BLOB_EXECUTABLE: kind = .executable
                case GIT_FILEMODE_LINK: kind = .symlink
                case GIT_FILEMODE_TREE: kind = nil
                default: kind = .other
                }
                result.append((String(cString: git_tree_entry_name(entry)), hexString(oid), kind))
            }
            return result
        }
    }

    public func exists(_ path: String) -> Bool {
        let components = pathComponents(path)
        if components.isEmpty { return true }
        return repository.lock.withLock {
            do {
                _ = try lookUp(components, requested: "")
                return true
            } catch {
                return false
            }
        }
    }

    // MARK: Internals (all called with repository.lock held)

    /// The entry at `components`, or nil for the root (which has no entry). The returned pointer
    /// belongs to a cached tree and stays valid for the life of `self`.
    private func lookUp(_ components: [Substring], requested: String) throws -> OpaquePointer? {
        guard let name = components.last else { return nil }
        let parent = try loadedTree(components.dropLast(), requested: requested)
        guard let entry = String(name).withCString({ git_tree_entry_byname(parent, $0) }) else {
            throw FileTreeError.notFound(path: requested, tree: description)
        }
        return entry
    }

    /// The tree object at `components`, loading and caching it and its parents as needed.
    /// Throws `.notFound` / `.notADirectory` naming `requested`, the path the caller asked for.
    private func loadedTree(_ components: ArraySlice<Substring>, requested: String) throws -> OpaquePointer {
        let key = components.joined(separator: "/")
        if let tree = subtrees[key] { return tree }
        guard let name = components.last else { return subtrees[""]! }
        let parent = try loadedTree(components.dropLast(), requested: requested)
        guard let entry = String(name).withCString({ git_tree_entry_byname(parent, $0) }) else {
            throw FileTreeError.notFound(path: requested, tree: description)
        }
        guard git_tree_entry_type(entry) == GIT_OBJECT_TREE else {
            throw FileTreeError.notADirectory(path: requested, tree: description)
        }
        return try loadTree(git_tree_entry_id(entry), key: key, requested: requested)
    }

    private func loadTree(_ oid: UnsafePointer<git_oid>, key: String, requested: String) throws -> OpaquePointer {
        if let tree = subtrees[key] { return tree }
        var tree: OpaquePointer?
        let rc = git_tree_lookup(&tree, repository.repo, oid)
        guard rc == 0, let tree else {
            throw FileTreeError.unreadable(path: requested, tree: description, reason: lastGitErrorMessage(rc))
        }
        subtrees[key] = tree
        return tree
    }

    /// Appends every entry below `tree` (which is at `directory`) to `result`, depth first,
    /// with paths relative to the listed directory prefixed by `prefix`.
    private func list(_ tree: OpaquePointer, directory: String, prefix: String, into result: inout [FileTreeEntry]) throws {
        let count = git_tree_entrycount(tree)
        result.reserveCapacity(result.count + count)
        for index in 0..<count {
            guard let entry = git_tree_entry_byindex(tree, index) else { continue }
            let name = String(cString: git_tree_entry_name(entry))
            let relative = prefix + name
            let oid = git_tree_entry_id(entry)!
            let mode = git_tree_entry_filemode(entry)
            switch mode {
            case GIT_FILEMODE_TREE:
                let key = directory.isEmpty ? relative : directory + "/" + relative
                let sub = try loadTree(oid, key: key, requested: key)
                try list(sub, directory: directory, prefix: relative + "/", into: &result)
            case GIT_FILEMODE_BLOB, GIT_FILEMODE_BLOB_EXECUTABLE:
                var size = 0
                var type = GIT_OBJECT_INVALID
                let rc = git_odb_read_header(&size, &type, repository.odb, oid)
                guard rc == 0 else {
                    let at = directory.isEmpty ? relative : directory + "/" + relative
                    throw FileTreeError.unreadable(path: at, tree: description, reason: lastGitErrorMessage(rc))
                }
                let kind: FileTreeEntry.Kind = mode == GIT_FILEMODE_BLOB ? .file : .executable
                result.append(FileTreeEntry(path: relative, kind: kind, size: size, id: hexString(oid)))
            case GIT_FILEMODE_LINK:
                result.append(FileTreeEntry(path: relative, kind: .symlink, size: 0, id: hexString(oid)))
            default:
                // GIT_FILEMODE_COMMIT (a submodule) or anything unexpected.
                result.append(FileTreeEntry(path: relative, kind: .other, size: 0, id: hexString(oid)))
            }
        }
    }

    /// Byte order of the UTF-8 forms, which is what the `FileTree` contract asks for.
    private static func byteOrder(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }
}
