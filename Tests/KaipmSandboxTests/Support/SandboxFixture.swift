import Foundation
import KaipmSandbox
import Synchronization
import Testing

/// A kaipm root in a temporary folder, with one generated plugin in its store, and the
/// supervisor that runs it: every sandbox test starts a real bubblewrap sandbox through it.
final class SandboxFixture: @unchecked Sendable {
    // @unchecked: a fixture belongs to one test and is used from that test's task only.

    /// The supervisor built beside this test bundle (`swift build --build-tests` builds both), or
    /// `$KAIPM_SUPERVISOR` (to measure a release build).
    static let supervisor: String = {
        if let chosen = ProcessInfo.processInfo.environment["KAIPM_SUPERVISOR"] { return chosen }
        let bundle = URL(fileURLWithPath: CommandLine.arguments.first { $0.contains(".xctest") } ?? Bundle.main.executablePath ?? "")
        var directory = bundle.deletingLastPathComponent()
        for _ in 0..<4 where !FileManager.default.fileExists(atPath: directory.appendingPathComponent("kaipm-supervisor").path) {
            directory = directory.deletingLastPathComponent()
        }
        return directory.appendingPathComponent("kaipm-supervisor").path
    }()

    private static let nextIdentity = Atomic<UInt32>(0)

    /// A uid of its own for each sandbox, so that tests running side by side share no RLIMIT_NPROC count.
    static func freshIdentity() -> SandboxIdentity {
        let offset = nextIdentity.add(1, ordering: .relaxed).newValue
        let uid = SandboxIdentity.firstUID + 0x8000 + UInt32(getpid() % 64) * 0x400 + offset
        return SandboxIdentity(uid: uid, gid: uid)
    }

    let root: String
    let pluginID: String
    var spec: SandboxSpec
    var layout: SandboxLayout { SandboxLayout(spec: spec) }
    var client: ControlClient { ControlClient(layout: layout) }
    private(set) var handle: SupervisorHandle?

    /// Makes the root, the store entry with `files` (the probe plugin unless given) and the data folder.
    init(_ name: String, files: [String: String] = ProbePlugin.files, hooks: [String: String] = ProbePlugin.hooks,
         config: String? = "greeting: \"Hello\"\n") throws {
        // Short: the socket path must fit in 107 bytes.
        root = try Self.makeTemporaryFolder()
        pluginID = "\(name)-\(UInt32.random(in: 0..<UInt32.max) % 100_000)"
        let store = root + "/kos/plugins/store/" + String(repeating: "a", count: 8) + pluginID
        try Self.write(files, under: store)
        var configFile: String?
        if let config {
            configFile = root + "/kos/config/plugins/\(pluginID).config.yaml"
            try FileManager.default.createDirectory(atPath: root + "/kos/config/plugins", withIntermediateDirectories: true)
            try config.write(toFile: configFile!, atomically: true, encoding: .utf8)
            chmod(configFile!, 0o640)
        }
        try FileManager.default.createDirectory(atPath: root + "/kos/data/\(pluginID)", withIntermediateDirectories: true)
        spec = SandboxSpec(
            pluginID: pluginID, root: root, storeEntry: store, dataDir: root + "/kos/data/\(pluginID)",
            configFile: configFile, entryPoints: EntryPoints(main: "main.py", hooks: hooks),
            resources: SandboxResources(memoryBytes: 128 << 20, cpu: 1, pids: 32),
            identity: Self.freshIdentity(), version: "1.0.0")
    }

    deinit {
        stop()
        // A supervisor killed with SIGKILL leaves its cgroups for the next start of the same
        // plugin to clear; these plugin ids are never started again.
        if let status = try? SupervisorStatus.read(layout) {
            SandboxCgroup(pluginID: pluginID, version: .v1, directories: status.cgroups).remove()
        }
        try? FileManager.default.removeItem(atPath: root)
    }

    static func makeTemporaryFolder() throws -> String {
        var template = Array("/tmp/ksbx-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw POSIXError(.EIO) }
        let path = String(cString: made)
        // The sandbox user must be able to walk down to its store entry.
        chmod(path, 0o755)
        return path
    }

    static func write(_ files: [String: String], under folder: String) throws {
        for (path, text) in files {
            let file = folder + "/" + path
            try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: file, atomically: true, encoding: .utf8)
        }
        // As the store makes them: readable by all, writable by none.
        let enumerator = FileManager.default.enumerator(atPath: folder)
        while let item = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: folder + "/" + item, isDirectory: &isDirectory)
            chmod(folder + "/" + item, isDirectory.boolValue ? 0o555 : 0o444)
        }
        chmod(folder, 0o555)
    }

    /// Starts the supervisor (detached) and returns once it serves its socket.
    @discardableResult
    func start() throws -> SupervisorHandle {
        let started = try SupervisorLauncher(executable: Self.supervisor).start(spec)
        handle = started
        return started
    }

    /// Sends one request; the `result` or a thrown `SandboxError`.
    @discardableResult
    func request(_ op: String, _ fields: [String: JSON] = [:], timeout: Int = 10_000) throws -> JSON {
        try client.request(op, fields.sorted { $0.key < $1.key }.map { JSON.Member($0.key, $0.value) }, timeoutMilliseconds: timeout)
    }

    /// Runs the probe plugin's command `name` with `args`.
    @discardableResult
    func command(_ name: String, _ args: [String: JSON] = [:], timeout: Int = 10_000) throws -> JSON {
        try request("command", ["command": .string(name), "args": .object(args.sorted { $0.key < $1.key }.map { JSON.Member($0.key, $0.value) })],
                    timeout: timeout)
    }

    /// Waits until the status file says the sandbox ended and the supervisor let go of its lock.
    func waitForExit(timeout: Double = 10) throws -> SupervisorStatus {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let status = try SupervisorStatus.read(layout), status.state == .exited, !SupervisorStatus.supervisorAlive(layout) {
                return status
            }
            usleep(10_000)
        }
        throw SandboxError.timedOut(plugin: pluginID, operation: "waiting for the sandbox to end", milliseconds: Int(timeout * 1000))
    }

    /// The console log so far.
    var log: String { (try? String(contentsOfFile: layout.logFile, encoding: .utf8)) ?? "" }

    /// Kills the supervisor if it still runs (its sandbox dies with it).
    func stop() {
        guard let handle, SupervisorStatus.supervisorAlive(layout) else { return }
        kill(handle.pid, SIGKILL)
        for _ in 0..<200 where SupervisorStatus.supervisorAlive(layout) { usleep(5000) }
    }
}

/// Whether a pid is gone (or a zombie waiting for a parent that is not us).
func processIsGone(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
    guard let close = stat.lastIndex(of: ")") else { return true }
    let state = stat[stat.index(close, offsetBy: 2)]
    return state == "Z" || state == "X"
}
