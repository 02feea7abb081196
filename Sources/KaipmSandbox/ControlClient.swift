import CKaipmSandboxShims
import Glibc

/// Talks to a plugin's supervisor over its control socket: one request, one answer
/// (the JSON-lines protocol of PROTOCOL.md). Blocking, with a deadline per request.
public struct ControlClient: Sendable {
    public let layout: SandboxLayout

    public init(layout: SandboxLayout) {
        self.layout = layout
    }

    /// Sends `op` with `fields` and returns the answer's `result`, or throws its `error`.
    public func request(_ op: String, _ fields: [JSON.Member] = [], timeoutMilliseconds: Int = 10_000) throws(SandboxError) -> JSON {
        let answer = try exchange(op, fields, timeoutMilliseconds: timeoutMilliseconds)
        if answer["ok"]?.boolValue == true { return answer["result"] ?? .null }
        let error = answer["error"]
        throw .requestFailed(plugin: layout.pluginID, code: error?["code"]?.stringValue ?? "Unknown",
                             message: error?["message"]?.stringValue ?? answer.text)
    }

    /// Sends `op` with `fields` and returns the whole answer (`{"id", "ok", "result"|"error"}`).
    public func exchange(_ op: String, _ fields: [JSON.Member] = [], timeoutMilliseconds: Int = 10_000) throws(SandboxError) -> JSON {
        let deadline = kaipm_monotonic_ns() + Int64(timeoutMilliseconds) * 1_000_000
        let fd = kaipm_unix_connect(layout.socket)
        guard fd >= 0 else {
            if errno == ENOENT || errno == ECONNREFUSED { throw .notRunning(plugin: layout.pluginID, socket: layout.socket) }
            throw .system(operation: "connect", path: layout.socket, code: errno)
        }
        defer { close(fd) }
        let request = JSON.object([JSON.Member("id", .int(1)), JSON.Member("op", .string(op))]
            + fields.filter { $0.key != "id" && $0.key != "op" })
        guard Posix.sendAll(fd, Array((request.text + "\n").utf8)) else {
            throw .system(operation: "write", path: layout.socket, code: errno)
        }
        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            if let newline = received.firstIndex(of: 0x0a) {
                do {
                    return try JSON(parsing: Array(received[..<newline]))
                } catch {
                    throw .protocolViolation(plugin: layout.pluginID, reason: "the answer is not JSON: \(error)")
                }
            }
            let left = (deadline - kaipm_monotonic_ns()) / 1_000_000
            guard left > 0 else { throw .timedOut(plugin: layout.pluginID, operation: op, milliseconds: timeoutMilliseconds) }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min(left, 60_000)))
            if ready < 0 {
                if errno == EINTR { continue }
                throw .system(operation: "poll", path: layout.socket, code: errno)
            }
            if ready == 0 { continue }
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw .system(operation: "read", path: layout.socket, code: errno)
            }
            if count == 0 {
                throw .protocolViolation(plugin: layout.pluginID, reason: "the supervisor closed the connection without answering '\(op)'")
            }
            received.append(contentsOf: buffer[0..<count])
            if received.count > 16 << 20 {
                throw .protocolViolation(plugin: layout.pluginID, reason: "an answer longer than 16 MiB")
            }
        }
    }
}
