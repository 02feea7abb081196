import Crypto
import Glibc
import KaipmCore

/// The content-addressed plugin store: `<store>/<treehash.hex>/` holds one plugin tree, read-only.
///
/// Layout (the store directory is normally `<root>/kos/plugins/store`):
/// - `<hex>/` — an installed tree: files 0444 (0555 when executable), directories 0555.
/// - `.index/<hex>.tsv` — the stat cache of an entry, for quick integrity checks (see `StoreIndex`).
/// - `.tmp-*` — work in progress or crash leftovers; `cleanTemporaries()` removes them.
///
/// An entry only ever appears by an atomic `rename` of a complete temporary directory made durable
/// first (one `syncfs`, see `Posix.syncFileSystem`) and disappears by a rename to `.tmp-*` before
/// deletion, so a crash never leaves a partial `<hex>/`.
/// `cleanTemporaries()` and `garbageCollect(keep:)` assume no other kaipm run uses the store
/// meanwhile (the engine's run lock); concurrent `install`s of the same tree are safe.
public struct PluginStore: Sendable {
    /// The store directory.
    public let directory: String

    /// A store in `directory` (created on first install).
    public init(directory: String) {
        var path = directory
        while path.count > 1, path.hasSuffix("/") { path.removeLast() }
        self.directory = path
    }

    /// The store of a kaipm root: `<root>/kos/plugins/store`.
    public init(root: String) {
        self.init(directory: Posix.join(root, "kos/plugins/store"))
    }

    /// The directory of the entry for `hash` (whether or not it exists).
    public func path(for hash: TreeHash) -> String { Posix.join(directory, hash.hex) }

    var indexDirectory: String { Posix.join(directory, ".index") }

    func indexPath(for hash: TreeHash) -> String { Posix.join(indexDirectory, hash.hex + ".tsv") }

    // MARK: - Listing

    /// The hashes of all entries in the store, sorted.
    public func entries() throws -> [TreeHash] {
        var hashes = [TreeHash]()
        for name in try io({ try Posix.listNames(directory) }) {
            guard let hash = Self.hash(fromHex: name) else { continue }
            guard let st = try io({ try Posix.lstatIfExists(Posix.join(directory, name)) }), st.isDirectory else { continue }
            hashes.append(hash)
        }
        return hashes.sorted()
    }

    /// The entry for `hash` with its file list, or nil when it is not in the store.
    /// The list comes from the index; without one, the entry is re-hashed (and the index rewritten
    /// when intact). No integrity verdict: call `verify(_:full:)` for that.
    public func entry(_ hash: TreeHash) throws -> StoreEntry? {
        let path = path(for: hash)
        guard let st = try io({ try Posix.lstatIfExists(path) }), st.isDirectory else { return nil }
        if let records = readIndex(hash) {
            return StoreEntry(hash: hash, path: path, files: records.map(\.hashedFile), installedNow: false)
        }
        _ = try verify(hash, full: true)
        let files = try readIndex(hash)?.map(\.hashedFile)
            ?? TreeHasher.hash(DirectoryTree(root: path), limits: .unlimited).files
        return StoreEntry(hash: hash, path: path, files: files, installedNow: false)
    }

    // MARK: - Install

    /// Copies the tree below `path` into the store and returns its entry; idempotent.
    ///
    /// When `expected` is given and an intact entry with the same files (paths, kinds, sizes) exists,
    /// nothing is read. Otherwise every file is read once, hashed while it is copied into a
    /// `.tmp-*` directory and made read-only; the tree hash is compared with `expected`
    /// (mismatch: `StoreError.checksumMismatch`, nothing kept), everything is made durable and the
    /// directory renamed to `<hex>` atomically. An entry that exists but is tampered with, or whose
    /// files differ in their executable bits (which the h1 hash does not cover), is replaced.
    ///
    /// Durability is batched: one `syncfs` per entry instead of one `fsync` per file (see
    /// `Posix.syncFileSystem` for why that is still crash safe). To install many entries, a
    /// `StoreBatch` shares that one `syncfs` among all of them.
    public func install(
        from tree: some FileTree, under path: String = "", expected: TreeHash? = nil, limits: TreeLimits = .default
    ) throws -> StoreEntry {
        let batch = try beginBatch()
        if let existing = try batch.stage(from: tree, under: path, expected: expected, limits: limits) {
            return existing
        }
        guard let entry = try batch.commit().first else {
            throw StoreError.io(operation: "install", path: directory, reason: "the staged entry was not committed")
        }
        return entry
    }

    /// Starts installing several entries that are made durable together (see `StoreBatch`).
    public func beginBatch() throws -> StoreBatch {
        try io {
            try Posix.makeDirectories(directory)
            try Posix.makeDirectory(indexDirectory, mode: 0o755)
        }
        // Opened before the first byte is written, so that syncfs reports any writeback error of
        // this batch (it reports those seen on the file system since the fd was opened).
        return StoreBatch(store: self, directoryFd: try io { try Posix.openDirectory(directory) })
    }

    /// A complete, read-only, not yet durable copy of a tree in a `.tmp-*` directory, with its
    /// index beside its final name: what `StoreBatch.commit` publishes.
    struct StagedEntry: Sendable {
        var hash: TreeHash
        var temp: String
        var indexTemp: String
        var records: [IndexRecord]
    }

    /// Copies and hashes `tree` into a new `.tmp-*` directory and writes its index; syncs nothing.
    /// Returns the existing entry instead when an intact one with the same files is there.
    func stage(
        from tree: some FileTree, under path: String, expected: TreeHash?, limits: TreeLimits
    ) throws -> (existing: StoreEntry?, staged: StagedEntry?) {
        let listing = try TreeListing.validated(tree, under: path, limits: limits)
        if let expected, let existing = try reusableEntry(expected, listing: listing) {
            return (existing, nil)
        }
        let temp = Posix.join(directory, ".tmp-" + Posix.randomToken())
        try io { try Posix.makeDirectory(temp, mode: 0o700) }
        do {
            let tempFd = try io { try Posix.openDirectory(temp) }
            defer { close(tempFd) }
            let records = try copy(listing, from: tree, under: path, into: tempFd, displayPath: temp, limits: limits)
            let hash = TreeHash(files: records.files.map { ($0.path, $0.sha256) })
            if let expected, hash != expected {
                throw StoreError.checksumMismatch(expected: expected, actual: hash, tree: Self.describe(tree, path))
            }
            if try io({ try Posix.lstatIfExists(self.path(for: hash)) }) != nil {
                if let existing = try reusableEntry(hash, listing: listing) {
                    try io { try Posix.removeTree(temp) }
                    return (existing, nil)
                }
                try remove(hash)
            }
            // The index is written beside its final name before the sync, so that the one sync covers
            // it too; it is renamed into place after the entry.
            let indexTemp = Posix.join(indexDirectory, ".tmp-" + Posix.randomToken())
            try io {
                try Posix.writeFile(indexTemp, StoreIndex.encode(hash: hash, records: records.files, directories: records.directories),
                                    mode: 0o444)
            }
            return (nil, StagedEntry(hash: hash, temp: temp, indexTemp: indexTemp, records: records.files))
        } catch {
            try? Posix.removeTree(temp)
            throw error
        }
    }

    /// Renames a staged entry (made durable by the caller) and its index into place.
    func publish(_ staged: StagedEntry) throws -> StoreEntry {
        let final = path(for: staged.hash)
        if Glibc.rename(staged.temp, final) != 0 {
            let code = errno
            try? Posix.removeTree(staged.temp)
            unlink(staged.indexTemp)
            guard code == EEXIST || code == ENOTEMPTY else {
                throw StoreError.io(operation: "rename into place", path: final, reason: Posix.errorText(code))
            }
            // Another run installed the same tree meanwhile: keep theirs.
            if let existing = try entry(staged.hash) { return existing }
            throw StoreError.io(operation: "rename into place", path: final, reason: Posix.errorText(code))
        }
        let index = indexPath(for: staged.hash)
        guard Glibc.rename(staged.indexTemp, index) == 0 else {
            let code = errno
            unlink(staged.indexTemp)
            throw StoreError.io(operation: "rename into place", path: index, reason: Posix.errorText(code))
        }
        return StoreEntry(hash: staged.hash, path: final, files: staged.records.map(\.hashedFile), installedNow: true)
    }

    /// The existing entry for `hash` when it is intact and holds exactly `listing`'s paths, kinds and sizes.
    private func reusableEntry(_ hash: TreeHash, listing: [FileTreeEntry]) throws -> StoreEntry? {
        let path = path(for: hash)
        guard let st = try io({ try Posix.lstatIfExists(path) }), st.isDirectory else { return nil }
        guard try verify(hash, full: false).isIntact, let records = readIndex(hash) else { return nil }
        guard records.count == listing.count else { return nil }
        for (record, entry) in zip(records, listing) {
            guard record.path == entry.path, record.kind == entry.kind, record.stat.size == entry.size else { return nil }
        }
        return StoreEntry(hash: hash, path: path, files: records.map(\.hashedFile), installedNow: false)
    }

    /// Copies and hashes every file of `listing` into the directory open at `tempFd`, seals it
    /// read-only and returns the index records of the files and of the subdirectories (stat taken
    /// after sealing). Nothing is synced here: `install` syncs once.
    ///
    /// Files and directories are created relative to directory fds (no path resolved per file) and
    /// files get their read-only mode at creation (the fd stays writable), so that a file costs
    /// create, write, fstat and close on the store side.
    private func copy(
        _ listing: [FileTreeEntry], from tree: some FileTree, under base: String, into tempFd: Int32,
        displayPath temp: String, limits: TreeLimits
    ) throws -> (files: [IndexRecord], directories: [IndexRecord]) {
        let reader = try TreeReader(tree: tree, under: base)
        var budget = ByteBudget(limits: limits, tree: Self.describe(tree, base))
        // Created directories by path, and in creation order (parents first) for sealing.
        var directoryFds: [Substring: Int32] = [:]
        var created: [(fd: Int32, path: Substring)] = []
        defer { for item in created { close(item.fd) } }

        func directoryFd(_ path: Substring) throws -> Int32 {
            if path.isEmpty { return tempFd }
            if let fd = directoryFds[path] { return fd }
            let slash = path.utf8.lastIndex(of: UInt8(ascii: "/"))
            let parentFd = try directoryFd(slash.map { path[..<$0] } ?? "")
            let name = String(slash.map { path[path.index(after: $0)...] } ?? path)
            guard mkdirat(parentFd, name, 0o700) == 0 else {
                throw StoreError.io(operation: "create directory", path: Posix.join(temp, String(path)), reason: Posix.errorText(errno))
            }
            let fd = openat(parentFd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else {
                throw StoreError.io(operation: "open directory", path: Posix.join(temp, String(path)), reason: Posix.errorText(errno))
            }
            directoryFds[path] = fd
            created.append((fd, path))
            return fd
        }

        var records = [IndexRecord]()
        records.reserveCapacity(listing.count)
        for entry in listing {
            var target: String { Posix.join(temp, entry.path) }
            let path = entry.path
            let slash = path.utf8.lastIndex(of: UInt8(ascii: "/"))
            let parentFd = try directoryFd(slash.map { path[..<$0] } ?? "")
            let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
            let mode: mode_t = entry.kind == .executable ? 0o555 : 0o444
            // O_CREAT with a read-only mode still gives a writable fd for the new file.
            let fd = openat(parentFd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
            guard fd >= 0 else { throw StoreError.io(operation: "create", path: target, reason: Posix.errorText(errno)) }
            defer { close(fd) }
            var hasher = SHA256()
            _ = try reader.read(path, budget: &budget) { chunk in
                hasher.update(bufferPointer: chunk)
                do throws(PosixError) { try Posix.writeAll(fd, chunk, displayPath: target) } catch { throw error.storeError }
            }
            let stat = try io { () throws -> FileStat in
                var stat = try Posix.fstat(fd, displayPath: target)
                if stat.permissions != mode {
                    // The umask took bits away: set the mode exactly (and record the new ctime).
                    guard fchmod(fd, mode) == 0 else { throw PosixError(operation: "chmod", path: target, code: errno) }
                    stat = try Posix.fstat(fd, displayPath: target)
                }
                return stat
            }
            records.append(IndexRecord(path: path, stat: stat, sha256: Array(hasher.finalize())))
        }
        // Deepest first (children were created after their parents), the entry's root last.
        for item in created.reversed() {
            guard fchmod(item.fd, 0o555) == 0 else {
                throw StoreError.io(operation: "chmod", path: Posix.join(temp, String(item.path)), reason: Posix.errorText(errno))
            }
        }
        guard fchmod(tempFd, 0o555) == 0 else {
            throw StoreError.io(operation: "chmod", path: temp, reason: Posix.errorText(errno))
        }
        var directories = [IndexRecord]()
        for item in created {
            let path = String(item.path)
            let stat = try io { try Posix.fstat(item.fd, displayPath: Posix.join(temp, path)) }
            directories.append(IndexRecord(path: path, stat: stat, sha256: StoreIndex.zeroDigest))
        }
        return (records, directories)
    }

    // MARK: - Integrity

    /// Checks the entry for `hash`.
    ///
    /// Quick mode compares each file's lstat (size, mtime, ctime, inode, mode) with the index written
    /// at install and lists added and removed files; without a usable index it falls back to full mode.
    /// Full mode re-reads every byte and compares the recomputed tree hash with `hash`; per-file
    /// digests from the index name the changed files. Content that matches `hash` with correct modes
    /// is intact even when times or inodes moved (a restore from backup); full mode then rewrites the
    /// stale or missing index (best effort) so later quick checks pass.
    public func verify(_ hash: TreeHash, full: Bool = false) throws -> IntegrityReport {
        let entryPath = path(for: hash)
        // The common case of every no-op run, decided cheaply; anything else takes the detailed way.
        if !full, quickCheckPasses(hash, entryPath: entryPath) {
            return IntegrityReport(hash: hash, fullCheck: false, problems: [])
        }
        guard let root = try io({ try Posix.lstatIfExists(entryPath) }) else {
            return IntegrityReport(hash: hash, fullCheck: full, problems: [
                IntegrityProblem(path: "", kind: .missingEntry, description: "store entry \(entryPath) for \(hash) is missing")
            ])
        }
        guard root.isDirectory else {
            return IntegrityReport(hash: hash, fullCheck: full, problems: [
                IntegrityProblem(path: "", kind: .typeChanged, description: "store entry \(entryPath) is a \(root.typeName), not a directory")
            ])
        }
        var problems = [IntegrityProblem]()
        if root.permissions != 0o555 {
            problems.append(Self.modeProblem("", from: 0o555, to: root.permissions))
        }
        let index = readIndex(hash)
        let walked = try walk(entryPath)
        if full || index == nil {
            problems += try fullCheck(hash, entryPath: entryPath, walked: walked, index: index)
        } else if let index {
            problems += quickCheck(walked: walked, index: index)
            if problems.isEmpty, !quickCheckPasses(hash, entryPath: entryPath) {
                // Every file is as installed but a directory's times moved (a file created and
                // deleted again, say): record the directories as they are now, so that the next
                // quick check is a quick one again.
                let directories = walked.filter(\.stat.isDirectory).map {
                    IndexRecord(path: $0.path, stat: $0.stat, sha256: StoreIndex.zeroDigest)
                }
                try? Posix.writeFileAtomically(indexPath(for: hash), StoreIndex.encode(hash: hash, records: index, directories: directories))
            }
        }
        problems.sort { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
        return IntegrityReport(hash: hash, fullCheck: full || index == nil, problems: problems)
    }

    private func quickCheck(walked: [WalkedEntry], index: [IndexRecord]) -> [IntegrityProblem] {
        var problems = [IntegrityProblem]()
        let byPath = Dictionary(index.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        var seen = Set<String>()
        for item in walked {
            if item.stat.isDirectory {
                if item.stat.permissions != 0o555 {
                    problems.append(Self.modeProblem(item.path + "/", from: 0o555, to: item.stat.permissions))
                }
                continue
            }
            guard let record = byPath[item.path] else {
                problems.append(Self.addedProblem(item))
                continue
            }
            seen.insert(item.path)
            guard item.stat.isRegular else {
                problems.append(IntegrityProblem(path: item.path, kind: .typeChanged,
                    description: "'\(item.path)' was a regular file and is now a \(item.stat.typeName)"))
                continue
            }
            let now = item.stat, then = record.stat
            var reasons = [String]()
            if now.permissions != then.permissions {
                reasons.append("mode \(Self.octal(then.permissions)) → \(Self.octal(now.permissions))")
            }
            if now.size != then.size { reasons.append("size \(then.size) → \(now.size) bytes") }
            if now.mtimeNs != then.mtimeNs { reasons.append("modification time changed") }
            if now.inode != then.inode { reasons.append("inode changed (the file was replaced)") }
            let contentSuspect = now.size != then.size || now.mtimeNs != then.mtimeNs || now.inode != then.inode
            if now.ctimeNs != then.ctimeNs, !contentSuspect, now.permissions == then.permissions {
                reasons.append("status-change time changed although size and mtime did not (rewritten with its mtime restored?)")
            }
            guard !reasons.isEmpty else { continue }
            let kind: IntegrityProblem.Kind =
                contentSuspect || now.permissions == then.permissions ? .modified : .modeChanged
            let verb = kind == .modified ? "modified" : "permissions changed"
            problems.append(IntegrityProblem(path: item.path, kind: kind,
                description: "'\(item.path)' \(verb): " + reasons.joined(separator: ", ")))
        }
        for record in index where !seen.contains(record.path) {
            problems.append(IntegrityProblem(path: record.path, kind: .removed, description: "'\(record.path)' was removed"))
        }
        return problems
    }

    private func fullCheck(
        _ hash: TreeHash, entryPath: String, walked: [WalkedEntry], index: [IndexRecord]?
    ) throws -> [IntegrityProblem] {
        var problems = [IntegrityProblem]()
        // Differences from the index that only matter when the content hash does not match either.
        var indexDifferences = [IntegrityProblem]()
        let byPath = Dictionary((index ?? []).map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        var seen = Set<String>()
        var fresh = [IndexRecord]()
        let reader = try TreeReader(tree: DirectoryTree(root: entryPath), under: "")
        var budget = ByteBudget(limits: .unlimited, tree: "store:\(hash)")
        for item in walked {
            if item.stat.isDirectory {
                if item.stat.permissions != 0o555 {
                    problems.append(Self.modeProblem(item.path + "/", from: 0o555, to: item.stat.permissions))
                }
                continue
            }
            let record = byPath[item.path]
            if record != nil { seen.insert(item.path) }
            guard item.stat.isRegular else {
                if record != nil {
                    problems.append(IntegrityProblem(path: item.path, kind: .typeChanged,
                        description: "'\(item.path)' was a regular file and is now a \(item.stat.typeName)"))
                } else {
                    problems.append(Self.addedProblem(item))
                }
                continue
            }
            var hasher = SHA256()
            do {
                _ = try reader.read(item.path, budget: &budget) { hasher.update(bufferPointer: $0) }
            } catch {
                problems.append(IntegrityProblem(path: item.path, kind: .unreadable,
                    description: "'\(item.path)' cannot be read: \(error)"))
                continue
            }
            let digest = Array(hasher.finalize())
            fresh.append(IndexRecord(path: item.path, stat: item.stat, sha256: digest))
            if let record {
                if record.sha256 != digest {
                    indexDifferences.append(IntegrityProblem(path: item.path, kind: .modified,
                        description: "'\(item.path)' modified: content differs from what was installed "
                            + "(sha256 \(Hex.encode(record.sha256).prefix(12))… → \(Hex.encode(digest).prefix(12))…)"))
                }
                if item.stat.permissions != record.stat.permissions {
                    problems.append(Self.modeProblem(item.path, from: record.stat.permissions, to: item.stat.permissions))
                }
            } else if index != nil {
                indexDifferences.append(Self.addedProblem(item))
            } else {
                if item.stat.permissions != 0o444, item.stat.permissions != 0o555 {
                    problems.append(Self.modeProblem(item.path, from: item.stat.isExecutable ? 0o555 : 0o444, to: item.stat.permissions))
                }
            }
        }
        for record in index ?? [] where !seen.contains(record.path) {
            indexDifferences.append(IntegrityProblem(path: record.path, kind: .removed, description: "'\(record.path)' was removed"))
        }
        let hasUnreadable = problems.contains { $0.kind == .unreadable }
        let actual = TreeHash(files: fresh.map { ($0.path, $0.sha256) })
        if actual != hash, !hasUnreadable {
            // A file turned into a symlink or the like already explains a different hash.
            if indexDifferences.isEmpty, !problems.contains(where: { $0.kind == .typeChanged }) {
                problems.append(IntegrityProblem(path: "", kind: .hashMismatch,
                    description: "the entry's content hashes to \(actual), not \(hash)"))
            }
            problems += indexDifferences
        } else if problems.isEmpty, index != fresh || !quickCheckPasses(hash, entryPath: entryPath) {
            // Authentic content with a missing or stale stat cache: refresh it so quick checks pass again.
            let directories = walked.filter(\.stat.isDirectory).map {
                IndexRecord(path: $0.path, stat: $0.stat, sha256: StoreIndex.zeroDigest)
            }
            try? Posix.writeFileAtomically(indexPath(for: hash), StoreIndex.encode(hash: hash, records: fresh, directories: directories))
        }
        return problems
    }

    private func walk(_ entryPath: String) throws -> [WalkedEntry] {
        var walked = [WalkedEntry]()
        try io {
            let fd = try Posix.openDirectory(entryPath)
            defer { close(fd) }
            try Posix.walk(fd, prefix: "", displayRoot: entryPath, includeDirectories: true, into: &walked)
        }
        walked.sort { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
        return walked
    }

    func readIndex(_ hash: TreeHash) -> [IndexRecord]? {
        guard let bytes = try? Posix.readFileIfExists(indexPath(for: hash)) else { return nil }
        return StoreIndex.decode(bytes, hash: hash)
    }

    // MARK: - Removal

    /// Deletes the entry for `hash` and its index; does nothing when it is not there.
    /// The entry is first renamed to `.tmp-*`, so a crash midway leaves only a temporary.
    public func remove(_ hash: TreeHash) throws {
        let final = path(for: hash)
        try io {
            if try Posix.lstatIfExists(final) != nil {
                let trash = Posix.join(directory, ".tmp-" + Posix.randomToken())
                guard Glibc.rename(final, trash) == 0 else {
                    throw PosixError(operation: "move aside", path: final, code: errno)
                }
                try Posix.fsyncDirectory(directory)
                try removeIndex(hash)
                try Posix.removeTree(trash)
            } else {
                try removeIndex(hash)
            }
        }
    }

    private func removeIndex(_ hash: TreeHash) throws(PosixError) {
        let index = indexPath(for: hash)
        guard unlink(index) == 0 || errno == ENOENT else {
            throw PosixError(operation: "delete", path: index, code: errno)
        }
    }

    /// Removes every entry whose hash is not in `keep`; returns the removed hashes, sorted.
    @discardableResult
    public func garbageCollect(keep: Set<TreeHash>) throws -> [TreeHash] {
        var removed = [TreeHash]()
        for hash in try entries() where !keep.contains(hash) {
            try remove(hash)
            removed.append(hash)
        }
        return removed
    }

    /// Deletes `.tmp-*` leftovers of interrupted installs and removals, and index files of missing
    /// entries; returns the removed names (relative to the store). Call at the start of each run.
    @discardableResult
    public func cleanTemporaries() throws -> [String] {
        var removed = [String]()
        try io {
            // Every no-op run does this: the store's names are listed once and index files are
            // matched against them, with no stat per entry.
            var names = Set<String>()
            for name in try Posix.listNames(directory) {
                if name.hasPrefix(".tmp-") {
                    try Posix.removeTree(Posix.join(directory, name))
                    removed.append(name)
                } else {
                    names.insert(name)
                }
            }
            for name in try Posix.listNames(indexDirectory) {
                let path = Posix.join(indexDirectory, name)
                if name.hasPrefix(".tmp-") {
                    try Posix.removeTree(path)
                    removed.append(".index/" + name)
                } else if name.hasSuffix(".tsv"), !names.contains(String(name.dropLast(4))),
                    Self.hash(fromHex: String(name.dropLast(4))) != nil
                {
                    try Posix.removeTree(path)
                    removed.append(".index/" + name)
                }
            }
        }
        return removed.sorted()
    }

    // MARK: - Helpers

    /// The hash named by a store directory name (64 lowercase hex digits), or nil.
    static func hash(fromHex name: String) -> TreeHash? {
        guard name.utf8.count == 64, let bytes = StoreIndex.hexDecode(Substring(name)) else { return nil }
        return TreeHash("h1:" + Base64.encode(bytes))
    }

    static func describe(_ tree: some FileTree, _ path: String) -> String {
        path.isEmpty ? tree.description : "\(tree.description):\(path)"
    }

    static func octal(_ mode: UInt32) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    static func modeProblem(_ path: String, from: UInt32, to: UInt32) -> IntegrityProblem {
        let what = path.isEmpty ? "the entry directory" : "'\(path)'"
        return IntegrityProblem(path: path, kind: .modeChanged,
            description: "\(what) permissions changed: mode \(octal(from)) → \(octal(to))")
    }

    static func addedProblem(_ item: WalkedEntry) -> IntegrityProblem {
        let what = item.stat.isRegular ? "file" : item.stat.typeName
        return IntegrityProblem(path: item.path, kind: .added, description: "'\(item.path)' was added (a \(what))")
    }

    /// Runs a POSIX operation, turning its error into `StoreError.io`.
    private func io<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as PosixError { throw error.storeError }
    }
}
