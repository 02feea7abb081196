/// A read-only tree of files: a git tree at one revision, or a directory on the host.
///
/// This is the seam between the pure core and the adapters that read bytes: the desired-state
/// parser and the plugin-package validator read through it and never touch the file system or
/// git themselves. Paths are relative, `/`-separated, without a leading `/` and never contain
/// `.` or `..` components; `""` names the root of the tree.
public protocol FileTree: Sendable {
    /// Every entry below `path`, recursively, sorted by path (byte order), with paths relative
    /// to `path`. Directories are not listed themselves, only what they contain.
    /// Throws `FileTreeError.notFound` when `path` does not exist, `.notADirectory` when it is a file.
    func entries(under path: String) throws -> [FileTreeEntry]

    /// The bytes of the regular file at `path`.
    /// Throws `FileTreeError.notFound` or `.notARegularFile`.
    func contents(of path: String) throws -> [UInt8]

    /// A stable identity of the subtree or file at `path` that changes whenever anything in it
    /// changes (a git tree or blob id), or nil where the tree cannot offer one cheaply
    /// (a plain directory). Used to skip re-parsing and re-hashing what has not changed.
    func identity(of path: String) throws -> String?

    /// Whether anything exists at `path`.
    func exists(_ path: String) -> Bool

    /// A human-readable description of where this tree comes from, for error messages
    /// (`git:/srv/desired@3f2a1c`, `dir:/etc/kaipm/desired`).
    var description: String { get }
}

/// One entry of a `FileTree` listing.
public struct FileTreeEntry: Sendable, Hashable {
    /// What kind of object an entry is. Only `.file` and `.executable` are acceptable in a plugin.
    public enum Kind: String, Sendable, Hashable, Codable {
        case file
        case executable
        case symlink
        /// A git submodule (gitlink), a device, a socket, a fifo: anything that is not a file.
        case other
    }

    /// The path relative to the listed directory.
    public var path: String
    public var kind: Kind
    /// Size in bytes (0 for non-files).
    public var size: Int
    /// A content identity where the tree has one (a git blob id), else nil.
    public var id: String?

    public init(path: String, kind: Kind, size: Int, id: String? = nil) {
        self.path = path
        self.kind = kind
        self.size = size
        self.id = id
    }
}

/// Errors a `FileTree` throws; adapters wrap their own failures in `.unreadable`.
public enum FileTreeError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(path: String, tree: String)
    case notADirectory(path: String, tree: String)
    case notARegularFile(path: String, tree: String)
    case unreadable(path: String, tree: String, reason: String)

    public var description: String {
        switch self {
        case let .notFound(path, tree):
            return "\(tree): '\(path)' does not exist; check the path and that it is committed at this revision"
        case let .notADirectory(path, tree):
            return "\(tree): '\(path)' is a file where a directory was expected"
        case let .notARegularFile(path, tree):
            return "\(tree): '\(path)' is not a regular file (symlinks, devices and directories are refused)"
        case let .unreadable(path, tree, reason):
            return "\(tree): cannot read '\(path)': \(reason)"
        }
    }
}

extension FileTree {
    public func exists(_ path: String) -> Bool {
        (try? identity(of: path)) != nil || (try? contents(of: path)) != nil
            || (try? entries(under: path)) != nil
    }
}
