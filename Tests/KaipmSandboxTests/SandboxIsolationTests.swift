import Foundation
import KaipmSandbox
import Testing

/// What a plugin must not be able to do, tried from inside real sandboxes: each test asserts the
/// exact errno or end the kernel gives, so that a weaker sandbox fails it.
@Suite("Sandbox isolation")
struct SandboxIsolationTests {
    @Test func readingHostSecretsIsDenied() throws {
        let fixture = try SandboxFixture("secrets")
        let registry = fixture.root + "/kos/db/plugins.sqlite"
        try FileManager.default.createDirectory(atPath: fixture.root + "/kos/db", withIntermediateDirectories: true)
        try "registry".write(toFile: registry, atomically: true, encoding: .utf8)
        try fixture.start()
        // Not there at all: the sandbox has no /etc, and no kaipm root.
        #expect(try fixture.command("read", ["path": .string("/etc/shadow")]) == ["ok": false, "errno": .int(ENOENT)])
        #expect(try fixture.command("read", ["path": .string(registry)]) == ["ok": false, "errno": .int(ENOENT)])
        #expect(try fixture.command("listdir", ["path": .string("/proc")]) == ["ok": false, "errno": .int(ENOENT)])
        #expect(try fixture.command("listdir", ["path": .string("/sys")]) == ["ok": false, "errno": .int(ENOENT)])
        #expect(try fixture.command("read", ["path": .string("/usr/bin/python3")])["ok"] == .bool(true))
    }

    @Test func grantedEtcStillHidesShadowFromTheSandboxUser() throws {
        let fixture = try SandboxFixture("shadow")
        fixture.spec.grants.filesystem = [FilesystemGrant(path: "/etc", mode: .readOnly)]
        try fixture.start()
        // The sandbox runs as its own unprivileged uid: /etc/shadow (root:shadow 0640) is unreadable.
        #expect(try fixture.command("read", ["path": .string("/etc/shadow")]) == ["ok": false, "errno": .int(EACCES)])
        #expect(try fixture.command("read", ["path": .string("/etc/hostname")])["ok"] == .bool(true))
        #expect(try fixture.command("write", ["path": .string("/etc/kaipm-probe")]) == ["ok": false, "errno": .int(EROFS)])
    }

    @Test func writesOutsideDataAndTmpFail() throws {
        let fixture = try SandboxFixture("readonly")
        // World-writable in the store: only the read-only mount stands in the way.
        chmod(fixture.spec.storeEntry + "/main.py", 0o666)
        try fixture.start()
        #expect(try fixture.command("write", ["path": .string("/plugin/main.py")]) == ["ok": false, "errno": .int(EROFS)])
        #expect(try fixture.command("write", ["path": .string("/plugin/new.py")]) == ["ok": false, "errno": .int(EROFS)])
        #expect(try fixture.command("write", ["path": .string("/usr/bin/evil")]) == ["ok": false, "errno": .int(EROFS)])
        #expect(try fixture.command("write", ["path": .string("/evil")]) == ["ok": false, "errno": .int(EROFS)])
        #expect(try fixture.command("write", ["path": .string("/tmp/scratch")])["ok"] == .bool(true))
        #expect(try fixture.command("write", ["path": .string("/data/notes")])["ok"] == .bool(true))
        let stored = try String(contentsOfFile: fixture.spec.storeEntry + "/main.py", encoding: .utf8)
        #expect(!stored.hasSuffix("x"))
    }

    @Test func tcpConnectFailsWithoutANetworkGrant() throws {
        let listener = try LoopbackListener()
        let fixture = try SandboxFixture("nonet")
        try fixture.start()
        // The sandbox's own network namespace: its loopback has nothing listening, and no routes.
        #expect(try fixture.command("connect", ["host": .string("127.0.0.1"), "port": .int(listener.port)]) == ["ok": false, "errno": .int(ECONNREFUSED)])
        #expect(try fixture.command("connect", ["host": .string("10.255.255.1"), "port": .int(80)]) == ["ok": false, "errno": .int(ENETUNREACH)])
        #expect(listener.accepted() == 0)
    }

    @Test func tcpConnectWorksWithANetworkGrant() throws {
        let listener = try LoopbackListener()
        let fixture = try SandboxFixture("net")
        fixture.spec.grants.network = true
        try fixture.start()
        #expect(try fixture.command("connect", ["host": .string("127.0.0.1"), "port": .int(listener.port)])["ok"] == .bool(true))
        #expect(listener.accepted() == 1)
    }

    @Test func allocatingPastTheMemoryQuotaIsKilled() throws {
        let fixture = try SandboxFixture("oom")
        fixture.spec.resources.memoryBytes = 48 << 20
        fixture.spec.limits.addressSpaceBytes = 1 << 30
        try fixture.start()
        #expect(try fixture.command("alloc", ["mib": .int(8)])["allocated"] == .int(8 << 20))
        #expect(throws: SandboxError.self) { try fixture.command("alloc", ["mib": .int(128)]) }
        let status = try fixture.waitForExit()
        #expect(status.exit?.reason == "MemoryLimit")
        #expect(status.exit?.signal == Int(SIGKILL))
        #expect(status.isolation["memory"]?.detail.contains("memory.limit_in_bytes=\(48 << 20)") == true)
    }

    @Test func aForkBombStopsAtThePidsLimit() throws {
        let fixture = try SandboxFixture("forkbomb")
        fixture.spec.resources.pids = 16
        try fixture.start()
        let result = try fixture.command("forkbomb")
        // bubblewrap's two processes and Python are in the group already: 16 - 3 forks succeed.
        #expect(result == ["forked": 13, "errno": .int(EAGAIN)])
        let status = try #require(try SupervisorStatus.read(fixture.layout))
        #expect(status.isolation["pids"]?.detail == "cgroup v1 pids.max=16")
        // The sandbox survived its own bomb and still answers.
        #expect(try fixture.request("health")["loaded"] == .bool(true))
    }

    @Test func spinningPastTheCPUSecondsLimitIsStopped() throws {
        let fixture = try SandboxFixture("cpulimit")
        fixture.spec.limits.cpuSeconds = 1
        try fixture.start()
        #expect(throws: SandboxError.self) { try fixture.command("spin", ["seconds": .int(10)], timeout: 8000) }
        let status = try fixture.waitForExit()
        #expect(status.exit?.reason == "CPULimit")
        #expect(status.exit?.signal == Int(SIGXCPU))
    }

    @Test func theCPUQuotaThrottlesASpinningPlugin() throws {
        let fixture = try SandboxFixture("cpuquota")
        fixture.spec.resources.cpu = 0.2
        try fixture.start()
        let result = try fixture.command("spin", ["seconds": .double(0.6)])
        let cpu = try #require(result["cpu"]?.doubleValue)
        let wall = try #require(result["wall"]?.doubleValue)
        // 20 ms per 100 ms period: about 0.12 s of CPU in 0.6 s, far from the 0.6 s it asked for.
        #expect(cpu < wall * 0.35, "cpu \(cpu) s in \(wall) s")
    }

    @Test func seccompDeniesDangerousCallsWithEPERM() throws {
        let fixture = try SandboxFixture("seccomp")
        try fixture.start()
        let results = try #require(try fixture.command("syscalls").objectValue)
        #expect(results.count == 23)
        for member in results {
            #expect(member.value == .int(EPERM), "\(member.key) answered errno \(member.value.text)")
        }
        #expect(try fixture.command("tiocsti") == ["ok": false, "errno": .int(EPERM)])
    }

    /// The control for the test above: the same sandbox without the filter answers differently,
    /// so the EPERMs there come from the filter.
    @Test func withoutTheFilterTheSameCallsAreNotEPERM() throws {
        let fixture = try SandboxFixture("nofilter")
        let code = """
            import ctypes, fcntl, termios, json
            libc = ctypes.CDLL(None, use_errno=True)
            out = {"ptrace": libc.ptrace(0, 0, 0, 0), "unshare": libc.syscall(272, 0)}
            try:
                fcntl.ioctl(1, termios.TIOCSTI, b"x"); out["tiocsti"] = 0
            except OSError as e:
                out["tiocsti"] = e.errno
            print(json.dumps(out, sort_keys=True))
            """
        var spec = fixture.spec
        spec.python = "/usr/bin/python3"
        let command = BubblewrapCommand(spec: spec, grants: [], descriptors: .init(control: 3, seccomp: nil, config: nil, harness: 6))
        let separator = try #require(command.arguments.firstIndex(of: "--"))
        var arguments = Array(command.arguments[..<separator])
        if let index = arguments.firstIndex(of: "--ro-bind-data") { arguments.removeSubrange(index...(index + 2)) }
        let output = try run(arguments + ["--", "/usr/bin/python3", "-I", "-c", code])
        #expect(output == #"{"ptrace": 0, "tiocsti": 25, "unshare": 0}"# + "\n")
    }

    @Test func theSandboxSeesOnlyItsControlDescriptor() throws {
        let fixture = try SandboxFixture("fds")
        try fixture.start()
        #expect(try fixture.command("fds") == ["open": [3]])
    }
}

/// Runs a command, returning its stdout; throws when it fails.
func run(_ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: arguments[0])
    process.arguments = Array(arguments.dropFirst())
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}

/// A TCP listener on 127.0.0.1 of the host, counting the connections it accepts.
final class LoopbackListener: @unchecked Sendable {
    // @unchecked: the descriptor is only read, from the test's task.
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }

    /// Accepts (and closes) what is waiting; how many there were.
    func accepted() -> Int {
        var count = 0
        while true {
            let connection = accept(fd, nil, nil)
            if connection < 0 { return count }
            close(connection)
            count += 1
        }
    }
}
