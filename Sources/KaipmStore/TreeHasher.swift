import Crypto
import Glibc
import KaipmCore

/// Upper bounds on a plugin tree, checked before and while its bytes are read.
public struct TreeLimits: Sendable, Hashable {
    /// The most files a tree may hold.
    public var maxFiles: Int
    /// The most bytes all files of a tree may hold together.
    public var maxTotalBytes: Int
    /// The most bytes one file may hold.
    public var maxFileBytes: Int

    /// Limits with the given bounds (by default 10 000 files, 256 MiB in all, 64 MiB per file).
    public init(maxFiles: Int = 10_000, maxTotalBytes: Int = 256 << 20, maxFileBytes: Int = 64 << 20) {
        self.maxFiles = maxFiles
        self.maxTotalBytes = maxTotalBytes
        self.maxFileBytes = maxFileBytes
    }

    /// 10 000 files, 256 MiB in all, 64 MiB per file.
    public static let `default` = TreeLimits()

    /// No bounds at all: for re-checking what is already in the store.
    public static let unlimited = TreeLimits(maxFiles: .max, maxTotalBytes: .max, maxFileBytes: .max)
}

/// One file of a hashed tree.
public struct HashedFile: Sendable, Hashable {
    /// The path relative to the tree's root.
    public var path: String
    /// `.file` or `.executable`.
    public var kind: FileTreeEntry.Kind
    /// The number of bytes read.
    public var size: Int
    /// The SHA-256 digest of the file's bytes.
    public var sha256: [UInt8]

    /// A file record.
    public init(path: String, kind: FileTreeEntry.Kind, size: Int, sha256: [UInt8]) {
        self.path = path
        self.kind = kind
        self.size = size
        self.sha256 = sha256
    }

    /// The digest as lowercase hex, as `sha256sum` prints it.
    public var sha256Hex: String { Hex.encode(sha256) }
}

/// A tree's h1 hash with the files it was computed from.
public struct HashedTree: Sendable, Hashable {
    /// The h1 tree hash.
    public var hash: TreeHash
    /// Every file, sorted by path in byte order.
    public var files: [HashedFile]

    /// A hashed tree.
    public init(hash: TreeHash, files: [HashedFile]) {
        self.hash = hash
        self.files = files
    }

    /// The sum of all file sizes.
    public var totalBytes: Int { files.reduce(0) { $0 + $1.size } }
}

/// Computes h1 tree hashes (Go dirhash) of `FileTree`s, reading every file once.
///
/// The same hash can be computed with stock coreutils (Debian 12, coreutils 9.1):
///
///     cd DIR && find . -type f | LC_ALL=C sort | sed 's|^\./||' \
///       | xargs -r -d '\n' sha256sum -- | sha256sum | head -c 64 | tr a-f A-F \
///       | basenc --base16 -d | base64
///
/// and prefixing the output with `h1:` (`xxd -r -p` may replace `head | tr | basenc`).
public enum TreeHasher {
    /// Hashes every file below `path` in `tree`, refusing symlinks, special files, unsafe paths and
    /// trees over `limits`. Throws `StoreError`.
    public static func hash(_ tree: some FileTree, under path: String = "", limits: TreeLimits = .default) throws -> HashedTree {
        let listing = try TreeListing.validated(tree, under: path, limits: limits)
        let reader = try TreeReader(tree: tree, under: path)
        var files = [HashedFile]()
        files.reserveCapacity(listing.count)
        var budget = ByteBudget(limits: limits, tree: tree.description)
        for entry in listing {
            var hasher = SHA256()
            let size = try reader.read(entry.path, budget: &budget) { chunk in
                hasher.update(bufferPointer: chunk)
            }
            files.append(HashedFile(path: entry.path, kind: entry.kind, size: size, sha256: Array(hasher.finalize())))
        }
        return HashedTree(hash: TreeHash(files: files.map { ($0.path, $0.sha256) }), files: files)
    }
}

/// Listing a tree and checking it against the path rules and limits before reading any byte.
enum TreeListing {
    static func validated(_ tree: some FileTree, under path: String, limits: TreeLimits) throws -> [FileTreeEntry] {
        let name = tree.description
        try TreePathRules.checkSubtree(path, tree: name)
        let listing: [FileTreeEntry]
        do {
            listing = try tree.entries(under: path)
        } catch let error as FileTreeError {
            throw StoreError.source(error)
        }
        if listing.count > limits.maxFiles {
            throw StoreError.tooManyFiles(count: listing.count, limit: limits.maxFiles, tree: name)
        }
        var total = 0
        for entry in listing {
            var shown: String { Posix.join(path, entry.path) }
            if let reason = TreePathRules.problem(with: entry.path) {
                throw StoreError.invalidPath(path: shown, tree: name, reason: reason)
            }
            switch entry.kind {
            case .file, .executable: break
            case .symlink: throw StoreError.symlink(path: shown, tree: name)
            case .other: throw StoreError.specialFile(path: shown, tree: name)
            }
            if entry.size > limits.maxFileBytes {
                throw StoreError.fileTooLarge(path: shown, bytes: entry.size, limit: limits.maxFileBytes, tree: name)
            }
            total += entry.size
            if total > limits.maxTotalBytes {
                throw StoreError.treeTooLarge(bytes: total, limit: limits.maxTotalBytes, tree: name)
            }
        }
        return listing
    }
}

/// Bytes read so far against the tree's limits; listing sizes can lie if files grow meanwhile.
struct ByteBudget {
    let limits: TreeLimits
    let tree: String
    var total = 0
}

/// Reads the files of one subtree chunk by chunk.
///
/// A `DirectoryTree` is read with `openat` relative to cached directory fds (no symlink is ever
/// followed, no path is resolved twice) into one reused buffer; any other tree through `contents(of:)`.
final class TreeReader {
    private let tree: any FileTree
    private let base: String
    private let directory: DirectoryTree?
    private var directoryFds: [Substring: Int32] = [:]
    private let buffer: ReadBuffer?

    init(tree: some FileTree, under base: String) throws {
        self.tree = tree
        self.base = base
        if let directory = tree as? DirectoryTree {
            self.directory = directory
            do {
                directoryFds[""] = try directory.openDirectory(base)
            } catch let error as FileTreeError {
                throw StoreError.source(error)
            }
            buffer = ReadBuffer()
        } else {
            directory = nil
            buffer = nil
        }
    }

    deinit {
        for fd in directoryFds.values { close(fd) }
    }

    /// Reads the file at `path` (relative to the subtree), handing chunks to `sink`; returns its size.
    func read(_ path: String, budget: inout ByteBudget, _ sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        // The path as reported in errors; only built for one.
        var shown: String { Posix.join(base, path) }
        let limits = budget.limits
        let treeName = budget.tree
        if let directory, let buffer {
            let fd = try openFile(path, directory: directory)
            defer { close(fd) }
            let remaining = limits.maxTotalBytes - budget.total
            let outcome: Posix.ReadOutcome
            do {
                outcome = try Posix.readChunks(fd, buffer: buffer.storage, limit: min(limits.maxFileBytes, remaining), sink)
            } catch let error as PosixError {
                throw StoreError.source(.unreadable(path: shown, tree: treeName, reason: error.reason))
            }
            switch outcome {
            case let .complete(size):
                budget.total += size
                return size
            case let .exceeded(size):
                if size > limits.maxFileBytes {
                    throw StoreError.fileTooLarge(path: shown, bytes: size, limit: limits.maxFileBytes, tree: treeName)
                }
                throw StoreError.treeTooLarge(bytes: budget.total + size, limit: limits.maxTotalBytes, tree: treeName)
            }
        }
        let bytes: [UInt8]
        do {
            bytes = try tree.contents(of: shown)
        } catch let error as FileTreeError {
            throw StoreError.source(error)
        }
        if bytes.count > limits.maxFileBytes {
            throw StoreError.fileTooLarge(path: shown, bytes: bytes.count, limit: limits.maxFileBytes, tree: treeName)
        }
        if bytes.count > limits.maxTotalBytes - budget.total {
            throw StoreError.treeTooLarge(bytes: budget.total + bytes.count, limit: limits.maxTotalBytes, tree: treeName)
        }
        budget.total += bytes.count
        try bytes.withUnsafeBytes { try sink($0) }
        return bytes.count
    }

    private func openFile(_ path: String, directory: DirectoryTree) throws -> Int32 {
        var shown: String { Posix.join(base, path) }
        let slash = path.utf8.lastIndex(of: UInt8(ascii: "/"))
        let parent = slash.map { path[..<$0] } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let parentFd = try directoryFd(parent, shown: shown)
        do {
            return try Posix.openRegularFile(in: parentFd, name: name, displayPath: Posix.join(directory.root, shown)).fd
        } catch {
            switch error.code {
            case ELOOP: throw StoreError.symlink(path: shown, tree: directory.description)
            case EINVAL: throw StoreError.specialFile(path: shown, tree: directory.description)
            case ENOENT: throw StoreError.source(.notFound(path: shown, tree: directory.description))
            default: throw StoreError.source(.unreadable(path: shown, tree: directory.description, reason: error.reason))
            }
        }
    }

    /// The fd of directory `path` (relative to the subtree), opened component by component without following symlinks.
    private func directoryFd(_ path: Substring, shown: @autoclosure () -> String) throws -> Int32 {
        if let fd = directoryFds[path] { return fd }
        let slash = path.utf8.lastIndex(of: UInt8(ascii: "/"))
        let parent = slash.map { path[..<$0] } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? String(path)
        let parentFd = try directoryFd(parent, shown: shown())
        let fd = openat(parentFd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            let tree = directory?.description ?? tree.description
            if code == ELOOP || code == ENOTDIR {
                throw StoreError.symlink(path: Posix.join(base, String(path)), tree: tree)
            }
            throw StoreError.source(.unreadable(path: shown(), tree: tree, reason: Posix.errorText(code)))
        }
        directoryFds[path] = fd
        return fd
    }
}
