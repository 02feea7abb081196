import CKaipmSandboxShims
import Glibc
import KaipmSandbox

/// The plugin's console log (`<root>/kos/log/plugins/<id>.log`): the sandbox's stdout and stderr
/// as they come, with the supervisor's own events as `kaipm-supervisor …` lines. Rotated to
/// `<id>.log.1` … `<id>.log.<keep>` when it would grow past `maxBytes`.
final class ConsoleLog {
    let path: String
    let policy: LogPolicy
    private var fd: Int32 = -1
    private var size = 0

    init(path: String, policy: LogPolicy) throws(SandboxError) {
        self.path = path
        self.policy = policy
        try Posix.makeDirectories(Posix.parent(path))
        try reopen()
    }

    private func reopen() throws(SandboxError) {
        if fd >= 0 { close(fd) }
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw .system(operation: "open", path: path, code: errno) }
        var info = stat()
        size = fstat(fd, &info) == 0 ? Int(info.st_size) : 0
    }

    /// Appends console bytes, rotating first when they would not fit.
    func append(_ bytes: ArraySlice<UInt8>) {
        guard !bytes.isEmpty else { return }
        if size > 0 && size + bytes.count > policy.maxBytes { rotate() }
        // A single write larger than the cap keeps its tail: the end of a flood is what explains it.
        let kept = bytes.count > policy.maxBytes ? bytes.suffix(policy.maxBytes) : bytes
        if Posix.writeAll(fd, Array(kept)) { size += kept.count }
    }

    /// One line of the supervisor's own, with a UTC timestamp.
    func event(_ message: String) {
        append(ArraySlice(Array("kaipm-supervisor \(ConsoleLog.timestamp()) \(message)\n".utf8)))
    }

    /// The last `count` bytes of the current log, from the start of a line.
    func tail(_ count: Int = 2048) -> String {
        guard let bytes = Posix.readFile(path) else { return "" }
        var slice = bytes.suffix(count)
        if slice.count < bytes.count, let newline = slice.firstIndex(of: 0x0a) { slice = slice[(newline + 1)...] }
        return String(decoding: slice, as: UTF8.self)
    }

    private func rotate() {
        if policy.keep <= 0 {
            _ = ftruncate(fd, 0)
            size = 0
            return
        }
        for index in stride(from: policy.keep - 1, through: 1, by: -1) {
            rename("\(path).\(index)", "\(path).\(index + 1)")
        }
        rename(path, "\(path).1")
        do { try reopen() } catch { size = 0 }
    }

    static func timestamp() -> String {
        let milliseconds = kaipm_wall_ms()
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let fraction = String(milliseconds % 1000)
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))."
            + String(repeating: "0", count: 3 - fraction.count) + fraction + "Z"
    }
}
