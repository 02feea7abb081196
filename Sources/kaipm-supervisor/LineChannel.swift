import CKaipmSandboxShims
import Glibc
import KaipmSandbox

/// A non-blocking stream socket that carries JSON lines, with its read and write buffers.
final class LineChannel {
    static let maximumLine = 1 << 20

    let fd: Int32
    /// Which connection this is; unlike the descriptor, never reused.
    let serial: Int

    private var inbound = [UInt8]()
    private var outbound = [UInt8]()
    /// The peer closed its writing side (or reading failed): no more lines will come.
    private(set) var readEnded = false
    /// Writing failed: nothing more can be sent.
    private(set) var broken = false
    /// A line longer than `maximumLine` arrived: the peer does not speak the protocol.
    private(set) var overflowed = false

    init(fd: Int32, serial: Int = 0) {
        self.fd = fd
        self.serial = serial
    }

    var wantsWrite: Bool { !outbound.isEmpty && !broken }

    /// Reads what is there and returns the complete lines (without their newlines).
    func readLines() -> [[UInt8]] {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !readEnded {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                inbound.append(contentsOf: buffer[0..<count])
                if count < buffer.count { break }
                continue
            }
            if count < 0 && (errno == EAGAIN || errno == EINTR) { break }
            readEnded = true
        }
        var lines = [[UInt8]]()
        var start = 0
        while let newline = inbound[start...].firstIndex(of: 0x0a) {
            lines.append(Array(inbound[start..<newline]))
            start = newline + 1
        }
        inbound.removeFirst(start)
        if inbound.count > LineChannel.maximumLine {
            overflowed = true
            inbound.removeAll()
        }
        return lines
    }

    /// Queues one JSON line and writes as much as the socket takes now.
    func send(_ message: JSON) {
        guard !broken else { return }
        outbound.append(contentsOf: Array((message.text + "\n").utf8))
        flush()
    }

    /// Writes queued bytes until the socket would block.
    func flush() {
        while !outbound.isEmpty && !broken {
            let count = outbound.withUnsafeBytes { kaipm_send(fd, $0.baseAddress, UInt($0.count)) }
            if count > 0 {
                outbound.removeFirst(count)
            } else if count < 0 && errno == EINTR {
                continue
            } else if count < 0 && errno == EAGAIN {
                return
            } else {
                outbound.removeAll()
                broken = true
            }
        }
    }

    func close() {
        Glibc.close(fd)
        readEnded = true
        broken = true
    }
}
