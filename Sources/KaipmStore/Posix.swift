import CKaipmShims
import Glibc

/// A failed system call: which call, on which path, and errno.
struct PosixError: Error, Sendable, Equatable {
    var operation: String
    var path: String
    var code: Int32

    /// The C library's text for `code` ("No such file or directory").
    var reason: String { Posix.errorText(code) }

    /// As a `StoreError.io`, for callers that report store-side failures.
    var storeError: StoreError { .io(operation: operation, path: path, reason: reason) }
}

/// The result of `lstat`/`fstat`, reduced to what the store compares.
struct FileStat: Sendable, Equatable {
    var mode: UInt32
    var size: Int
    var mtimeNs: Int64
    var ctimeNs: Int64
    var inode: UInt64

    init(mode: UInt32, size: Int, mtimeNs: Int64, ctimeNs: Int64, inode: UInt64) {
        self.mode = mode
        self.size = size
        self.mtimeNs = mtimeNs
        self.ctimeNs = ctimeNs
        self.inode = inode
    }

    init(_ st: stat) {
        mode = UInt32(st.st_mode)
        size = Int(st.st_size)
        mtimeNs = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        ctimeNs = Int64(st.st_ctim.tv_sec) * 1_000_000_000 + Int64(st.st_ctim.tv_nsec)
        inode = UInt64(st.st_ino)
    }

    static let typeMask: UInt32 = 0o170000
    static let regularType: UInt32 = 0o100000
    static let directoryType: UInt32 = 0o040000
    static let symlinkType: UInt32 = 0o120000

    var isRegular: Bool { mode & Self.typeMask == Self.regularType }
    var isDirectory: Bool { mode & Self.typeMask == Self.directoryType }
    var isSymlink: Bool { mode & Self.typeMask == Self.symlinkType }
    /// Permission bits (including setuid/setgid/sticky).
    var permissions: UInt32 { mode & 0o7777 }
    var isExecutable: Bool { mode & 0o111 != 0 }

    /// The `FileTreeEntry` kind this object would be listed as.
    var typeName: String {
        switch mode & Self.typeMask {
        case Self.regularType: return "regular file"
        case Self.directoryType: return "directory"
        case Self.symlinkType: return "symlink"
        case 0o010000: return "fifo"
        case 0o140000: return "socket"
        case 0o020000: return "character device"
        case 0o060000: return "block device"
        default: return "special file"
        }
    }
}

/// One object found by `Posix.walk`: its path relative to the walked directory and its lstat.
struct WalkedEntry: Sendable {
    var path: String
    var stat: FileStat
}

/// Thin, throwing wrappers over the POSIX calls the store uses on hot paths.
enum Posix {
    static let readBufferSize = 1 << 20

    static func errorText(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "errno \(code)" }
        return String(cString: text)
    }

    /// `path` joined under `base` ("" means `base` itself).
    static func join(_ base: String, _ path: String) -> String {
        if path.isEmpty { return base }
        if base.isEmpty { return path }
        return base.hasSuffix("/") ? base + path : base + "/" + path
    }

    static func lstat(_ path: String) throws(PosixError) -> FileStat {
        var st = stat()
        guard Glibc.lstat(path, &st) == 0 else { throw PosixError(operation: "stat", path: path, code: errno) }
        return FileStat(st)
    }

    /// lstat, or nil when nothing exists at `path`.
    static func lstatIfExists(_ path: String) throws(PosixError) -> FileStat? {
        var st = stat()
        if Glibc.lstat(path, &st) == 0 { return FileStat(st) }
        let code = errno
        if code == ENOENT || code == ENOTDIR { return nil }
        throw PosixError(operation: "stat", path: path, code: code)
    }

    /// lstat of `name` in the directory open at `dirFd`; `displayPath` is only built for an error.
    static func fstatAt(_ dirFd: Int32, _ name: String, displayPath: @autoclosure () -> String) throws(PosixError) -> FileStat {
        var st = stat()
        guard fstatat(dirFd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
            let code = errno
            throw PosixError(operation: "stat", path: displayPath(), code: code)
        }
        return FileStat(st)
    }

    static func fstat(_ fd: Int32, displayPath: @autoclosure () -> String) throws(PosixError) -> FileStat {
        var st = stat()
        guard Glibc.fstat(fd, &st) == 0 else {
            let code = errno
            throw PosixError(operation: "stat", path: displayPath(), code: code)
        }
        return FileStat(st)
    }

    /// Opens a directory by absolute (or cwd-relative) path, following symlinks: used for roots only.
    static func openDirectory(_ path: String) throws(PosixError) -> Int32 {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw PosixError(operation: "open directory", path: path, code: errno) }
        return fd
    }

    /// Opens the directory `components` below `base` one component at a time, never following a
    /// symlink (ELOOP/ENOTDIR when a component is one). The caller closes the returned fd.
    static func openDirectory(
        under base: Int32, components: some Sequence<Substring>, displayPath: String
    ) throws(PosixError) -> Int32 {
        var current = openat(base, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard current >= 0 else { throw PosixError(operation: "open directory", path: displayPath, code: errno) }
        for component in components {
            let next = openat(current, String(component), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            let code = errno
            close(current)
            guard next >= 0 else { throw PosixError(operation: "open directory", path: displayPath, code: code) }
            current = next
        }
        return current
    }

    /// Opens the regular file `name` in directory `dirFd` for reading without following a symlink
    /// and without blocking on a fifo. Throws with `EINVAL` when it is not a regular file.
    /// `displayPath` is only built for an error.
    static func openRegularFile(
        in dirFd: Int32, name: String, displayPath: @autoclosure () -> String
    ) throws(PosixError) -> (fd: Int32, stat: FileStat) {
        let fd = openat(dirFd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            throw PosixError(operation: "open", path: displayPath(), code: code)
        }
        let st: FileStat
        do {
            st = try fstat(fd, displayPath: displayPath())
        } catch {
            close(fd)
            throw error
        }
        guard st.isRegular else {
            close(fd)
            throw PosixError(operation: "open", path: displayPath(), code: EINVAL)
        }
        // O_NONBLOCK has no effect on regular files, it only kept a fifo from blocking the open.
        return (fd, st)
    }

    /// Reads `fd` to its end in chunks of `buffer`, handing each chunk to `sink`.
    /// Throws `.exceeded` as soon as more than `limit` bytes were read.
    /// A failed read throws a `PosixError` without a path (callers report theirs).
    static func readChunks(
        _ fd: Int32, buffer: UnsafeMutableRawBufferPointer, limit: Int,
        _ sink: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> ReadOutcome {
        guard let base = buffer.baseAddress else { return .complete(0) }
        var total = 0
        while true {
            let n = Glibc.read(fd, base, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw PosixError(operation: "read", path: "", code: errno)
            }
            if n == 0 { return .complete(total) }
            total += n
            if total > limit { return .exceeded(total) }
            try sink(UnsafeRawBufferPointer(start: base, count: n))
        }
    }

    enum ReadOutcome {
        case complete(Int)
        case exceeded(Int)
    }

    /// Writes all of `bytes` to `fd`, retrying short writes; `displayPath` is only built for an error.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, displayPath: @autoclosure () -> String) throws(PosixError) {
        guard var pointer = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = Glibc.write(fd, pointer, left)
            if n < 0 {
                if errno == EINTR { continue }
                let code = errno
                throw PosixError(operation: "write", path: displayPath(), code: code)
            }
            left -= n
            pointer += n
        }
    }

    static func fsync(_ fd: Int32, displayPath: String) throws(PosixError) {
        guard Glibc.fsync(fd) == 0 else { throw PosixError(operation: "fsync", path: displayPath, code: errno) }
    }

    /// Opens a directory, fsyncs it so renames and creations in it are durable, closes it.
    static func fsyncDirectory(_ path: String) throws(PosixError) {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw PosixError(operation: "open directory", path: path, code: errno) }
        defer { close(fd) }
        try fsync(fd, displayPath: path)
    }

    /// Reads a whole (small) file by path, or nil when it does not exist.
    ///
    /// Sized by `fstat` and read straight into the array, usually with one `read`: reading stops
    /// once the size `fstat` gave is reached (the store replaces files by rename and never appends
    /// to them, so an open file does not grow); files whose size is unknown (0) are read to the end.
    static func readFileIfExists(_ path: String) throws(PosixError) -> [UInt8]? {
        let fd = Glibc.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw PosixError(operation: "open", path: path, code: errno)
        }
        defer { close(fd) }
        var st = stat()
        guard Glibc.fstat(fd, &st) == 0 else { throw PosixError(operation: "stat", path: path, code: errno) }
        let size = Int(st.st_size)
        var out = [UInt8](repeating: 0, count: max(size, 256))
        var count = 0
        while true {
            if size > 0, count == size {
                out.removeLast(out.count - count)
                return out
            }
            if count == out.count { out.append(contentsOf: repeatElement(0, count: out.count)) }
            let n = out.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + count, $0.count - count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw PosixError(operation: "read", path: path, code: errno)
            }
            if n == 0 {
                out.removeLast(out.count - count)
                return out
            }
            count += n
        }
    }

    /// Creates the file `path` (which must not exist) with `bytes` and `mode`; no fsync (the caller
    /// syncs, e.g. with `syncFileSystem`).
    static func writeFile(_ path: String, _ bytes: [UInt8], mode: mode_t) throws(PosixError) {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PosixError(operation: "create", path: path, code: errno) }
        var failure: PosixError?
        bytes.withUnsafeBytes { raw in
            do throws(PosixError) {
                try writeAll(fd, raw, displayPath: path)
                guard fchmod(fd, mode) == 0 else { throw PosixError(operation: "chmod", path: path, code: errno) }
            } catch {
                failure = error
            }
        }
        close(fd)
        if let failure {
            unlink(path)
            throw failure
        }
    }

    /// `syncfs(2)` on the file system holding `fd`: waits until all its dirty data and metadata are
    /// on stable storage.
    ///
    /// The store syncs a new entry with this once instead of fsyncing each of its files and
    /// directories (each fsync is a journal commit and a disk cache flush: ≈0.3 ms or more, times
    /// 10,000 files on a first apply). It is as crash safe: everything written to the `.tmp-*`
    /// directory before the call (file data, inodes with their read-only modes, directory entries)
    /// is durable when it returns 0, and only then is the directory renamed to its final name. A
    /// crash before the rename leaves only a `.tmp-*` directory; one after it, a complete entry.
    /// Errors: since Linux 5.8, syncfs fails with the writeback error (EIO, ENOSPC, ...) of any
    /// inode of the file system that failed since `fd` was opened, so `fd` must be opened before the
    /// data is written. Other writers on the same file system make the call wait for their dirty
    /// data too; on the engine's hosts that is little next to 10 fsyncs per entry.
    static func syncFileSystem(_ fd: Int32, displayPath: String) throws(PosixError) {
        guard kaipm_syncfs(fd) == 0 else { throw PosixError(operation: "syncfs", path: displayPath, code: errno) }
    }

    /// Writes `bytes` to `path` atomically: a temporary file in the same directory, fsync, rename.
    static func writeFileAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o444) throws(PosixError) {
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let temp = join(directory, ".tmp-" + randomToken())
        let fd = Glibc.open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PosixError(operation: "create", path: temp, code: errno) }
        var failure: PosixError?
        bytes.withUnsafeBytes { raw in
            do throws(PosixError) {
                try writeAll(fd, raw, displayPath: temp)
                try fsync(fd, displayPath: temp)
                guard fchmod(fd, mode) == 0 else { throw PosixError(operation: "chmod", path: temp, code: errno) }
            } catch {
                failure = error
            }
        }
        close(fd)
        if failure == nil, Glibc.rename(temp, path) != 0 {
            failure = PosixError(operation: "rename", path: path, code: errno)
        }
        if let failure {
            unlink(temp)
            throw failure
        }
        try fsyncDirectory(directory.isEmpty ? "." : directory)
    }

    /// Creates a directory; succeeds when it already exists as a directory.
    static func makeDirectory(_ path: String, mode: mode_t) throws(PosixError) {
        if mkdir(path, mode) == 0 { return }
        let code = errno
        if code == EEXIST, let st = try lstatIfExists(path), st.isDirectory { return }
        throw PosixError(operation: "create directory", path: path, code: code)
    }

    /// Creates `path` and its missing parents.
    static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(PosixError) {
        if let st = try lstatIfExists(path), st.isDirectory { return }
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            try makeDirectory(prefix, mode: mode)
        }
    }

    /// The names in directory `path` (without "." and ".."), or [] when it does not exist.
    static func listNames(_ path: String) throws(PosixError) -> [String] {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return [] }
            throw PosixError(operation: "open directory", path: path, code: errno)
        }
        return try listNames(ownedFd: fd, displayPath: path)
    }

    /// Reads the names of the directory open at `fd`, taking ownership of (and closing) it.
    static func listNames(ownedFd fd: Int32, displayPath: String) throws(PosixError) -> [String] {
        guard let dir = fdopendir(fd) else {
            let code = errno
            close(fd)
            throw PosixError(operation: "open directory", path: displayPath, code: code)
        }
        defer { closedir(dir) }
        var names = [String]()
        while true {
            errno = 0
            guard let ent = readdir(dir) else {
                if errno != 0 { throw PosixError(operation: "read directory", path: displayPath, code: errno) }
                return names
            }
            let name: String? = withUnsafePointer(to: &ent.pointee.d_name) { tuple in
                tuple.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: tuple.pointee)) {
                    String(validatingCString: $0)
                }
            }
            guard let name else {
                throw PosixError(operation: "read file name (not valid UTF-8) in", path: displayPath, code: EILSEQ)
            }
            if name == "." || name == ".." { continue }
            names.append(name)
        }
    }

    /// Every object below the directory open at `dirFd`, recursively, never following symlinks,
    /// with paths relative to it (prefixed with `prefix`). Directories are included when asked.
    /// Unordered.
    static func walk(
        _ dirFd: Int32, prefix: String, displayRoot: String, includeDirectories: Bool,
        into result: inout [WalkedEntry]
    ) throws(PosixError) {
        let own = openat(dirFd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        let display = join(displayRoot, prefix)
        guard own >= 0 else { throw PosixError(operation: "open directory", path: display, code: errno) }
        guard let dir = fdopendir(own) else {
            let code = errno
            close(own)
            throw PosixError(operation: "open directory", path: display, code: code)
        }
        defer { closedir(dir) }
        let fd = dirfd(dir)
        while true {
            errno = 0
            guard let ent = readdir(dir) else {
                if errno != 0 { throw PosixError(operation: "read directory", path: display, code: errno) }
                return
            }
            let name: String? = withUnsafePointer(to: &ent.pointee.d_name) { tuple in
                tuple.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: tuple.pointee)) {
                    String(validatingCString: $0)
                }
            }
            guard let name else {
                throw PosixError(operation: "read file name (not valid UTF-8) in", path: display, code: EILSEQ)
            }
            if name == "." || name == ".." { continue }
            let path = prefix.isEmpty ? name : prefix + "/" + name
            let st = try fstatAt(fd, name, displayPath: join(displayRoot, path))
            if st.isDirectory {
                if includeDirectories { result.append(WalkedEntry(path: path, stat: st)) }
                let sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard sub >= 0 else {
                    throw PosixError(operation: "open directory", path: join(displayRoot, path), code: errno)
                }
                defer { close(sub) }
                try walk(sub, prefix: path, displayRoot: displayRoot, includeDirectories: includeDirectories, into: &result)
            } else {
                result.append(WalkedEntry(path: path, stat: st))
            }
        }
    }

    /// Deletes `path` and everything below it, making read-only directories writable first.
    /// Does not follow symlinks. Succeeds when nothing exists at `path`.
    static func removeTree(_ path: String) throws(PosixError) {
        guard let st = try lstatIfExists(path) else { return }
        if !st.isDirectory {
            guard unlink(path) == 0 || errno == ENOENT else { throw PosixError(operation: "delete", path: path, code: errno) }
            return
        }
        if st.permissions & 0o700 != 0o700 {
            guard chmod(path, 0o700) == 0 else { throw PosixError(operation: "chmod", path: path, code: errno) }
        }
        for name in try listNames(path) {
            try removeTree(join(path, name))
        }
        guard rmdir(path) == 0 || errno == ENOENT else { throw PosixError(operation: "delete directory", path: path, code: errno) }
    }

    /// 16 random hex digits for temporary names.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() as UInt64
        return String(value, radix: 16)
    }
}

/// A reusable read buffer, allocated once per operation instead of once per file.
final class ReadBuffer {
    let storage: UnsafeMutableRawBufferPointer

    init(size: Int = Posix.readBufferSize) {
        storage = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
    }

    deinit { storage.deallocate() }
}
