import CKaipmShims
import Glibc
import KaipmCore

extension PluginStore {
    /// True when a quick check of the entry for `hash` finds nothing wrong, decided in the cheapest
    /// way; false when something differs *or* this way cannot tell (no index, an unreadable
    /// directory, ...), in which case `verify` runs the detailed check that names the problems.
    ///
    /// Every no-op run checks every entry, so this allocates next to nothing and opens one
    /// directory per entry: the index is read into one buffer and scanned in place
    /// (`StoreIndex.Line`, no String per record); each record is `fstatat`ed relative to the entry's
    /// root with its path as a NUL-terminated slice of the buffer. A file must have its recorded
    /// stat; a subdirectory must be the same directory (inode) with the same mtime and ctime, which
    /// proves it holds the same names (see `StoreIndex`); and the root, whose times move when it is
    /// renamed into place, must hold exactly its recorded files and subdirectories (counted with
    /// getdents64, no names kept). Then nothing was added, removed, replaced or changed, which is
    /// what the walk in `quickCheck` would find.
    func quickCheckPasses(_ hash: TreeHash, entryPath: String) -> Bool {
        let rootFd = open(entryPath, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard rootFd >= 0 else { return false }
        defer { close(rootFd) }
        var root = stat()
        guard fstat(rootFd, &root) == 0, FileStat(root).permissions == 0o555,
            var bytes = try? Posix.readFileIfExists(indexPath(for: hash))
        else {
            return false
        }
        return bytes.withUnsafeMutableBufferPointer { buffer in
            QuickIndexCheck(buffer: buffer, rootFd: rootFd).passes(hash)
        }
    }
}

/// One pass over an index buffer for `quickCheckPasses`.
private struct QuickIndexCheck {
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
    let rootFd: Int32

    func passes(_ hash: TreeHash) -> Bool {
        let view = UnsafeBufferPointer(buffer)
        guard var offset = StoreIndex.bodyStart(view, hash: hash), let base = buffer.baseAddress else { return false }
        // Names directly in the root, and the directories that files and directories say they are
        // in, which must all have directory lines of their own.
        var rootNames = 0
        var parents = Set<Key>()
        var directories = Set<Key>()
        while offset < buffer.count {
            guard let line = StoreIndex.Line(view, at: offset) else { return false }
            // Terminates the path in place (its line break is not read again), for fstatat.
            buffer[line.pathEnd] = 0
            var ascii = true
            for i in line.pathStart..<line.pathEnd where buffer[i] >= 0x80 { ascii = false; break }
            // The walk refuses names that are not UTF-8: let the detailed check say so.
            if !ascii, String(validatingCString: UnsafeRawPointer(base + line.pathStart).assumingMemoryBound(to: CChar.self)) == nil {
                return false
            }
            var slash = line.pathEnd
            while slash > line.pathStart, buffer[slash - 1] != UInt8(ascii: "/") { slash -= 1 }
            if slash == line.pathStart {
                rootNames += 1
            } else {
                parents.insert(Key(start: UnsafePointer(base + line.pathStart), count: slash - 1 - line.pathStart))
            }
            var st = stat()
            let found = UnsafeRawPointer(base + line.pathStart).withMemoryRebound(to: CChar.self, capacity: line.pathEnd - line.pathStart + 1) {
                fstatat(rootFd, $0, &st, AT_SYMLINK_NOFOLLOW) == 0
            }
            guard found else { return false }
            let now = FileStat(st), then = line.stat
            if then.isDirectory {
                guard now.isDirectory, now.permissions == 0o555, now.mtimeNs == then.mtimeNs, now.ctimeNs == then.ctimeNs,
                    now.inode == then.inode
                else { return false }
                directories.insert(Key(start: UnsafePointer(base + line.pathStart), count: line.pathEnd - line.pathStart))
            } else {
                // Exactly what `quickCheck` compares.
                guard now.isRegular, now.permissions == then.permissions, now.size == then.size,
                    now.mtimeNs == then.mtimeNs, now.inode == then.inode, now.ctimeNs == then.ctimeNs
                else { return false }
            }
            offset = line.next
        }
        // Every directory that holds something is vouched for by its own line, and the root holds
        // exactly what the index implies (names in a directory are unique and every implied one was
        // found above).
        return parents.isSubset(of: directories) && kaipm_count_directory_entries(rootFd) == rootNames
    }
}
