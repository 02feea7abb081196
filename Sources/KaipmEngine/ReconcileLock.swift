import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One reconcile at a time per root: an `flock` on `<root>/kos/run/kaipm.lock`.
///
/// The kernel drops an flock when its holder dies, so a lock left by a dead process is simply
/// taken over. The file also says who holds it (pid, start time, command), so that a refused
/// run can tell the operator whom it waited for.
public final class ReconcileLock: @unchecked Sendable {
    // Safe: the descriptor is set once in init and closed once in deinit; no other mutation.
    private let fd: Int32
    public let path: String

    /// Who holds a lock, as written in the lock file.
    public struct Holder: Sendable, CustomStringConvertible {
        public var pid: Int32
        public var startedAt: String
        public var command: String

        public var description: String { "pid \(pid) (\(command)), since \(startedAt)" }
    }

    /// Takes the lock, waiting up to `wait` seconds; throws `EngineError.locked` naming the holder.
    public init(path: String, wait: Double, command: String) throws(EngineError) {
        self.path = path
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw EngineError.io(operation: "open the lock file", path: path, reason: String(cString: strerror(errno)))
        }
        let deadline = Date().addingTimeInterval(max(0, wait))
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR, Date() < deadline else {
                let holder = ReconcileLock.readHolder(descriptor)
                close(descriptor)
                throw EngineError.locked(path: path, holder: holder?.description ?? "an unknown process", waited: wait)
            }
            usleep(20_000)
        }
        fd = descriptor
        let stamp = ISO8601DateFormatter().string(from: Date())
        let text = "\(getpid())\n\(stamp)\n\(command)\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    deinit {
        _ = ftruncate(fd, 0)
        flock(fd, LOCK_UN)
        close(fd)
    }

    private static func readHolder(_ fd: Int32) -> Holder? {
        var buffer = [UInt8](repeating: 0, count: 1024)
        let count = pread(fd, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        let lines = String(decoding: buffer[0..<count], as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 3, let pid = Int32(lines[0]) else { return nil }
        return Holder(pid: pid, startedAt: String(lines[1]), command: String(lines[2]))
    }
}
