import Glibc
import KaipmCore
import Synchronization

/// Installs several store entries that are made durable together.
///
/// `install` pays one `syncfs` (a journal commit and a disk cache flush) per entry; a first apply
/// of a thousand plugins paid a thousand, and every file created meanwhile waited for them. A
/// batch stages each entry complete and read-only in its `.tmp-*` directory (from several threads
/// if the caller likes), then `commit` syncs the file system once, renames every entry and its
/// index into place and syncs the store directory once. The crash guarantees are `install`'s: an
/// entry gets its final name only after all its bytes are durable, and anything a crash leaves
/// behind is a `.tmp-*` that `cleanTemporaries` removes.
public final class StoreBatch: Sendable {
    let store: PluginStore
    /// The store directory, opened before anything was staged (see `Posix.syncFileSystem`).
    private let directoryFd: Int32
    private let staged = Mutex<[PluginStore.StagedEntry]>([])

    init(store: PluginStore, directoryFd: Int32) {
        self.store = store
        self.directoryFd = directoryFd
    }

    deinit {
        // Entries staged but never committed are not durable: drop them.
        for entry in staged.withLock({ $0 }) {
            try? Posix.removeTree(entry.temp)
            unlink(entry.indexTemp)
        }
        close(directoryFd)
    }

    /// Stages `tree` for `commit`; returns the existing entry instead when an intact one with the
    /// same files is already in the store. Thread safe. Errors as `PluginStore.install`'s.
    public func stage(
        from tree: some FileTree, under path: String = "", expected: TreeHash? = nil, limits: TreeLimits = .default
    ) throws -> StoreEntry? {
        let (existing, entry) = try store.stage(from: tree, under: path, expected: expected, limits: limits)
        if let entry { staged.withLock { $0.append(entry) } }
        return existing
    }

    /// Up to this many files in a commit, each is fsynced instead of one `syncfs`.
    static let fsyncEachUpTo = 64

    /// fsyncs every file and directory below `path`, then `path` itself.
    static func fsyncTree(_ path: String) throws(PosixError) {
        let fd = try Posix.openDirectory(path)
        defer { close(fd) }
        var walked: [WalkedEntry] = []
        try Posix.walk(fd, prefix: "", displayRoot: path, includeDirectories: true, into: &walked)
        for item in walked {
            let full = Posix.join(path, item.path)
            let child = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            guard child >= 0 else { throw PosixError(operation: "open", path: full, code: errno) }
            defer { close(child) }
            try Posix.fsync(child, displayPath: full)
        }
        try Posix.fsync(fd, displayPath: path)
    }

    /// Makes everything staged durable with one `syncfs`, then puts each entry in place; returns the
    /// installed entries. An entry that cannot be renamed is skipped (and reported by the error
    /// thrown after the others are in place).
    @discardableResult
    public func commit() throws -> [StoreEntry] {
        let entries = staged.withLock { list in
            defer { list = [] }
            return list
        }
        guard !entries.isEmpty else { return [] }
        do {
            // syncfs writes back everything dirty on the file system, other programs' writes too: one
            // call beats an fsync per file for a first apply's thousands of files, but for the few
            // files of a one-plugin update, fsyncing just those is bounded by their own size.
            if entries.reduce(0, { $0 + $1.records.count }) <= Self.fsyncEachUpTo {
                for entry in entries {
                    try Self.fsyncTree(entry.temp)
                    let fd = open(entry.indexTemp, O_RDONLY | O_CLOEXEC)
                    guard fd >= 0 else { throw PosixError(operation: "open", path: entry.indexTemp, code: errno) }
                    defer { close(fd) }
                    try Posix.fsync(fd, displayPath: entry.indexTemp)
                }
            } else {
                try Posix.syncFileSystem(directoryFd, displayPath: store.directory)
            }
        } catch {
            for entry in entries {
                try? Posix.removeTree(entry.temp)
                unlink(entry.indexTemp)
            }
            throw (error as? PosixError)?.storeError ?? error
        }
        var installed = [StoreEntry]()
        var firstError: Error?
        for entry in entries {
            do {
                installed.append(try store.publish(entry))
            } catch {
                firstError = firstError ?? error
            }
        }
        // The renames are durable before the entries are reported installed. The indexes' renames
        // get no fsync of their own (on ext4 they ride in the same journal commit anyway): an entry
        // whose index a crash lost gets a full check next time, which rewrites the index.
        guard fsync(directoryFd) == 0 else {
            throw StoreError.io(operation: "fsync", path: store.directory, reason: Posix.errorText(errno))
        }
        if let firstError { throw firstError }
        return installed
    }
}

/// File-system durability for callers outside the store (the engine's config files).
public enum FileSystemSync {
    /// `syncfs` of the file system holding `directory`: every dirty page and inode on it is durable
    /// when this returns. Throws `StoreError.io`.
    public static func sync(containing directory: String) throws {
        do throws(PosixError) {
            let fd = try Posix.openDirectory(directory)
            defer { close(fd) }
            try Posix.syncFileSystem(fd, displayPath: directory)
        } catch {
            throw error.storeError
        }
    }
}
