import Foundation
import KaipmStore
#if canImport(Glibc)
import Glibc
#endif

/// Writes a file so that readers see the old or the new content, never a mix, even across a crash.
///
/// The data is synced before the rename, so a power cut never leaves an empty file under the
/// final name; the rename itself is not synced per file (the folder's fsync cost a first apply a
/// second per thousand plugins): after a power cut the old content may reappear, which the next
/// reconcile sees as drift and rewrites.
enum AtomicFile {
    static func write(_ text: String, to path: String, mode: mode_t = 0o644) throws(EngineError) {
        let temp = try createTemporary(text, for: path, suffix: "tmp-\(getpid())", mode: mode, sync: true)
        try publish(temp, to: path)
    }

    /// Writes `text` to a temporary file beside `path`, without syncing, and returns its path: the
    /// caller makes it durable (one `syncFileSystem` for many files) and then `publish`es it.
    static func stage(_ text: String, for path: String, mode: mode_t = 0o644) throws(EngineError) -> String {
        try createTemporary(text, for: path, suffix: "tmp-staged-\(getpid())", mode: mode, sync: false)
    }

    /// `.<name>.<suffix>` beside `path` holding `text` (synced when asked); removed again on failure.
    private static func createTemporary(_ text: String, for path: String, suffix: String, mode: mode_t,
                                        sync: Bool) throws(EngineError) -> String {
        let dir = (path as NSString).deletingLastPathComponent
        let temp = dir + "/.\((path as NSString).lastPathComponent).\(suffix)"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw failure("create", temp) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return Glibc.write(fd, base + written, bytes.count - written)
            }
            if n < 0 {
                if errno == EINTR { continue }
                let error = failure("write", temp)
                unlink(temp)
                throw error
            }
            written += n
        }
        if sync, fsync(fd) != 0 {
            let error = failure("sync", temp)
            unlink(temp)
            throw error
        }
        return temp
    }

    /// Renames a staged (and synced) file to its final name.
    static func publish(_ temp: String, to path: String) throws(EngineError) {
        guard rename(temp, path) == 0 else {
            let error = failure("rename into place", path)
            unlink(temp)
            throw error
        }
    }

    /// `syncfs` of the file system holding `directory`, skipped when that is the file system of
    /// `other` (which the caller syncs anyway).
    static func syncFileSystem(of directory: String, unlessSameAs other: String) throws(EngineError) {
        var a = stat(), b = stat()
        if stat(directory, &a) == 0, stat(other, &b) == 0, a.st_dev == b.st_dev { return }
        do {
            try FileSystemSync.sync(containing: directory)
        } catch {
            throw EngineError.io(operation: "sync", path: directory, reason: "\(error)")
        }
    }

    /// Removes temporary files `write` and `stage` left in `directory` when a run was killed.
    static func cleanTemporaries(in directory: String) {
        // Every run does this over a folder of a config file per plugin: readdir, no Foundation.
        guard let dir = opendir(directory) else { return }
        defer { closedir(dir) }
        var doomed: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name.hasPrefix("."), name.contains(".tmp-") { doomed.append(name) }
        }
        for name in doomed { unlink(directory + "/" + name) }
    }

    private static func failure(_ operation: String, _ path: String) -> EngineError {
        EngineError.io(operation: operation, path: path, reason: String(cString: strerror(errno)))
    }
}
