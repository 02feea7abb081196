import CKaipmShims
import Glibc
import KaipmCore

extension PluginStore {
    /// True when a quick check of the entry for `hash` finds nothing wrong, decided in the cheapest
    /// way; false when something differs *or* this way cannot tell (no index, an unreadable
    /// directory, ...), in which case `verify` runs the detailed check that names the problems.
    ///
    /// Every no-op run checks every entry, so this allocates next to nothing and resolves no path
    /// per file: the index is read into one buffer and scanned in place (`StoreIndex.Line`, no String
    /// per record); each record's file is `fstatat`ed relative to an fd of its directory, with its
    /// name as a NUL-terminated slice of the buffer; and added files are ruled out by counting each
    /// directory's entries (getdents64, no names kept): when every recorded file is there with its
    /// recorded stat, and each directory holds exactly its recorded files and subdirectories, nothing
    /// was added, removed, replaced or changed, which is what the walk in `quickCheck` would find.
    func quickCheckPasses(_ hash: TreeHash, entryPath: String) -> Bool {
        let rootFd = open(entryPath, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard rootFd >= 0 else { return false }
        var root = stat()
        guard fstat(rootFd, &root) == 0, FileStat(root).permissions == 0o555,
            var bytes = try? Posix.readFileIfExists(indexPath(for: hash))
        else {
            close(rootFd)
            return false
        }
        return bytes.withUnsafeMutableBufferPointer { buffer in
            var directories = EntryDirectories(buffer: buffer, rootFd: rootFd)
            defer { directories.closeAll() }
            return directories.check(hash)
        }
    }
}

/// The directories of one entry met while checking its index, keyed by their path's bytes in the
/// index buffer, with how many entries each must hold.
private struct EntryDirectories {
    struct Directory {
        var fd: Int32
        /// The files and subdirectories the index implies in it.
        var expected: Int
    }

    /// A directory path as a slice of the index buffer, compared and hashed by its bytes.
    struct Key: Hashable {
        var start: UnsafePointer<UInt8>
        var count: Int

        static func == (a: Key, b: Key) -> Bool {
            a.count == b.count && memcmp(a.start, b.start, a.count) == 0
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(bytes: UnsafeRawBufferPointer(start: start, count: count))
        }
    }

    let buffer: UnsafeMutableBufferPointer<UInt8>
    /// Index 0 is the entry's root.
    var list: [Directory]
    var byPath: [Key: Int] = [:]
    /// The last directory looked up: records come sorted, so runs of them share one.
    var last: (key: Key, index: Int)?

    init(buffer: UnsafeMutableBufferPointer<UInt8>, rootFd: Int32) {
        self.buffer = buffer
        list = [Directory(fd: rootFd, expected: 0)]
    }

    func closeAll() {
        for directory in list { close(directory.fd) }
    }

    mutating func check(_ hash: TreeHash) -> Bool {
        let view = UnsafeBufferPointer(buffer)
        guard var offset = StoreIndex.bodyStart(view, hash: hash), let base = buffer.baseAddress else { return false }
        while offset < buffer.count {
            guard let line = StoreIndex.Line(view, at: offset) else { return false }
            // Terminates the path in place (its line break is not read again), for fstatat.
            buffer[line.pathEnd] = 0
            var nameStart = line.pathEnd
            var ascii = true
            while nameStart > line.pathStart, buffer[nameStart - 1] != UInt8(ascii: "/") {
                nameStart -= 1
            }
            for i in line.pathStart..<line.pathEnd where buffer[i] >= 0x80 { ascii = false; break }
            // The walk refuses names that are not UTF-8: let the detailed check say so.
            if !ascii, String(validatingCString: UnsafeRawPointer(base + line.pathStart).assumingMemoryBound(to: CChar.self)) == nil {
                return false
            }
            let parent = nameStart == line.pathStart ? 0 : directory(start: line.pathStart, end: nameStart - 1)
            guard let parent else { return false }
            var st = stat()
            let found = UnsafeRawPointer(base + nameStart).withMemoryRebound(to: CChar.self, capacity: line.pathEnd - nameStart + 1) {
                fstatat(list[parent].fd, $0, &st, AT_SYMLINK_NOFOLLOW) == 0
            }
            guard found else { return false }
            // Exactly what `quickCheck` compares.
            let now = FileStat(st), then = line.stat
            guard now.isRegular, now.permissions == then.permissions, now.size == then.size,
                now.mtimeNs == then.mtimeNs, now.inode == then.inode, now.ctimeNs == then.ctimeNs
            else { return false }
            list[parent].expected += 1
            offset = line.next
        }
        // Nothing added: each directory holds exactly what the index implies (names in a directory
        // are unique and every implied one was found above).
        for directory in list where kaipm_count_directory_entries(directory.fd) != directory.expected {
            return false
        }
        return true
    }

    /// The index in `list` of the directory whose path is `buffer[start..<end]` (not empty), opened
    /// (without following symlinks) and checked to be read-only on first use; nil when it cannot be.
    mutating func directory(start: Int, end: Int) -> Int? {
        let key = Key(start: UnsafePointer(buffer.baseAddress! + start), count: end - start)
        if let last, last.key == key { return last.index }
        if let index = byPath[key] {
            last = (key, index)
            return index
        }
        var nameStart = end
        while nameStart > start, buffer[nameStart - 1] != UInt8(ascii: "/") { nameStart -= 1 }
        let parent = nameStart == start ? 0 : directory(start: start, end: nameStart - 1)
        guard let parent else { return nil }
        // Terminates the name in place for openat, then puts the '/' back.
        let saved = buffer[end]
        buffer[end] = 0
        let fd = UnsafeRawPointer(buffer.baseAddress! + nameStart).withMemoryRebound(to: CChar.self, capacity: end - nameStart + 1) {
            openat(list[parent].fd, $0, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        }
        buffer[end] = saved
        guard fd >= 0 else { return nil }
        var st = stat()
        guard fstat(fd, &st) == 0, FileStat(st).permissions == 0o555 else {
            close(fd)
            return nil
        }
        list[parent].expected += 1
        list.append(Directory(fd: fd, expected: 0))
        byPath[key] = list.count - 1
        last = (key, list.count - 1)
        return list.count - 1
    }
}
