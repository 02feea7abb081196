import Glibc
import KaipmCore

/// A `FileTree` over a directory on the host, read with POSIX calls and never following symlinks below its root.
///
/// Regular files are listed as `.file` (`.executable` when any execute bit is set), symlinks as
/// `.symlink` and fifos, sockets and devices as `.other`; sizes come from `lstat`; ids are nil.
/// The root itself may be reached through a symlink (`/etc/kaipm -> /srv/kaipm`); nothing below it is.
public struct DirectoryTree: FileTree {
    /// The absolute path of the tree's root directory, without a trailing `/`.
    public let root: String

    /// A tree rooted at `root`; a relative root is resolved against the current directory.
    public init(root: String) {
        var absolute = root
        if !absolute.hasPrefix("/") {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            if getcwd(&buffer, buffer.count) != nil {
                let cwd = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                absolute = Posix.join(cwd, root)
            }
        }
        while absolute.count > 1, absolute.hasSuffix("/") { absolute.removeLast() }
        self.root = absolute
    }

    /// `dir:<root>`.
    public var description: String { "dir:\(root)" }

    /// Every non-directory object below `path`, recursively, sorted by path in byte order.
    public func entries(under path: String) throws -> [FileTreeEntry] {
        let fd = try openDirectory(path)
        defer { close(fd) }
        var walked = [WalkedEntry]()
        do {
            try Posix.walk(fd, prefix: "", displayRoot: Posix.join(root, path), includeDirectories: false, into: &walked)
        } catch {
            throw FileTreeError.unreadable(path: Posix.join(path, ""), tree: description, reason: "\(error.operation) '\(error.path)': \(error.reason)")
        }
        walked.sort { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
        return walked.map { FileTreeEntry(path: $0.path, kind: Self.kind(of: $0.stat), size: $0.stat.size) }
    }

    /// The bytes of the regular file at `path`; refuses symlinks (anywhere in the path) and special files.
    public func contents(of path: String) throws -> [UInt8] {
        let (fd, st) = try openFile(path)
        defer { close(fd) }
        var bytes = [UInt8]()
        bytes.reserveCapacity(st.size)
        let buffer = ReadBuffer(size: min(max(st.size + 1, 4096), Posix.readBufferSize))
        do {
            _ = try Posix.readChunks(fd, buffer: buffer.storage, limit: Int.max) { chunk in
                bytes.append(contentsOf: chunk)
            }
        } catch let error as PosixError {
            throw FileTreeError.unreadable(path: path, tree: description, reason: error.reason)
        }
        return bytes
    }

    /// Always nil: a plain directory has no cheap content identity.
    public func identity(of path: String) throws -> String? { nil }

    /// Whether anything (file, directory, symlink, ...) exists at `path`, without following symlinks.
    public func exists(_ path: String) -> Bool {
        guard path.isEmpty || TreePathRules.problem(with: path) == nil else { return false }
        return (try? stat(of: path)) != nil
    }

    // MARK: - Internals shared with the hasher and the store

    /// The `FileTreeEntry.Kind` of an object with this lstat.
    static func kind(of st: FileStat) -> FileTreeEntry.Kind {
        if st.isRegular { return st.isExecutable ? .executable : .file }
        if st.isSymlink { return .symlink }
        return .other
    }

    /// lstat of `path` below the root, no symlink followed on the way.
    func stat(of path: String) throws -> FileStat {
        try checkPath(path)
        let components = path.split(separator: "/")
        guard let last = components.last else {
            do { return try Posix.lstat(root) } catch { throw mapped(error, path: path) }
        }
        let parent = try openParent(of: components)
        defer { close(parent) }
        do {
            return try Posix.fstatAt(parent, String(last), displayPath: Posix.join(root, path))
        } catch {
            throw mapped(error, path: path)
        }
    }

    /// An fd for the directory at `path` below the root (the root itself may be a symlink).
    func openDirectory(_ path: String) throws -> Int32 {
        try checkPath(path)
        let rootFd: Int32
        do { rootFd = try Posix.openDirectory(root) } catch { throw mapped(error, path: "") }
        defer { close(rootFd) }
        if path.isEmpty {
            return dup(rootFd)
        }
        do {
            return try Posix.openDirectory(under: rootFd, components: path.split(separator: "/"), displayPath: Posix.join(root, path))
        } catch {
            // Say whether the path is missing or is something other than a directory.
            if error.code == ENOTDIR || error.code == ELOOP {
                throw FileTreeError.notADirectory(path: path, tree: description)
            }
            throw mapped(error, path: path)
        }
    }

    /// The open regular file at `path` and its stat.
    func openFile(_ path: String) throws -> (fd: Int32, stat: FileStat) {
        try checkPath(path)
        let components = path.split(separator: "/")
        guard let last = components.last else { throw FileTreeError.notARegularFile(path: path, tree: description) }
        let parent = try openParent(of: components)
        defer { close(parent) }
        do {
            return try Posix.openRegularFile(in: parent, name: String(last), displayPath: Posix.join(root, path))
        } catch {
            throw mapped(error, path: path)
        }
    }

    /// The directory holding the last of `components`; a parent that is not a directory means "not found".
    private func openParent(of components: [Substring]) throws -> Int32 {
        let parentPath = components.dropLast().joined(separator: "/")
        do {
            return try openDirectory(parentPath)
        } catch FileTreeError.notADirectory {
            throw FileTreeError.notFound(path: components.joined(separator: "/"), tree: description)
        }
    }

    private func checkPath(_ path: String) throws {
        if !path.isEmpty, let reason = TreePathRules.problem(with: path) {
            throw FileTreeError.unreadable(path: path, tree: description, reason: "invalid path: \(reason)")
        }
    }

    private func mapped(_ error: PosixError, path: String) -> FileTreeError {
        switch error.code {
        case ENOENT: return .notFound(path: path, tree: description)
        case ELOOP, EINVAL: return .notARegularFile(path: path, tree: description)
        case ENOTDIR: return .notFound(path: path, tree: description)
        default: return .unreadable(path: path, tree: description, reason: "\(error.operation): \(error.reason)")
        }
    }
}
