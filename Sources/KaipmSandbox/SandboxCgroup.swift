import Glibc

/// One sandbox's cgroups: made before it starts (below the supervisor's own cgroup, in
/// `kaipm/<id>`), joined by its first process before exec, removed once it ended.
///
/// Limits are memory (v1 `memory.limit_in_bytes` and `memory.memsw.limit_in_bytes`; v2
/// `memory.max` and `memory.swap.max`), CPU (CFS quota per 100 ms period) and pids. Whatever
/// cannot be set up is recorded in the isolation report instead of failing the start.
public struct SandboxCgroup: Sendable, Equatable {
    public static let cpuPeriodMicroseconds = 100_000

    public let pluginID: String
    public let version: CgroupHost.Version
    /// Controller → the sandbox's group folder, for each controller whose limit is in force.
    public private(set) var directories: [String: String]

    public init(pluginID: String, version: CgroupHost.Version, directories: [String: String]) {
        self.pluginID = pluginID
        self.version = version
        self.directories = directories
    }

    /// Creates the groups (replacing stale ones a dead supervisor left, killing what is in them)
    /// and writes the limits; records in `report` what is enforced and what is not.
    ///
    /// The group is `kaipm/<id>-<root tag>`: the plugin's lock (one supervisor per root and
    /// plugin) makes a leftover of the same name stale, while a plugin of the same id under
    /// another root (a second kaipm root, a test) keeps its own group.
    public static func create(pluginID: String, root: String, resources: SandboxResources, host: CgroupHost,
                              report: inout IsolationReport) -> SandboxCgroup {
        var group = SandboxCgroup(pluginID: pluginID, version: host.version, directories: [:])
        let quota = cpuQuota(resources.loadingCPU)
        for controller in CgroupHost.controllers {
            guard let own = host.ownDirectory(controller) else {
                report.add(controller, enforced: false, host.version == .none
                    ? "no cgroup hierarchy is mounted" : "the \(controller) controller is not mounted (cgroup \(host.version.rawValue))")
                continue
            }
            let parent = own + "/kaipm"
            let directory = parent + "/" + groupName(pluginID: pluginID, root: root)
            var writes: [(file: String, value: String)]
            switch (controller, host.version) {
            case ("memory", .v2): writes = [("memory.max", String(resources.memoryBytes)), ("memory.swap.max", "0")]
            case ("memory", _): writes = [("memory.limit_in_bytes", String(resources.memoryBytes)),
                                          ("memory.memsw.limit_in_bytes", String(resources.memoryBytes))]
            case ("cpu", .v2): writes = [("cpu.max", "\(quota) \(cpuPeriodMicroseconds)")]
            case ("cpu", _): writes = [("cpu.cfs_period_us", String(cpuPeriodMicroseconds)), ("cpu.cfs_quota_us", String(quota))]
            default: writes = [("pids.max", String(resources.pids))]
            }
            do throws(SandboxError) {
                if host.version == .v2 {
                    // v2 delegates a controller only through every ancestor's subtree_control.
                    try makeDirectory(parent)
                    try write("+\(controller)", to: own + "/cgroup.subtree_control")
                    try write("+\(controller)", to: parent + "/cgroup.subtree_control")
                } else {
                    try makeDirectory(parent)
                }
                removeStale(directory)
                try makeDirectory(directory)
                var applied = [String]()
                for (file, value) in writes {
                    let path = directory + "/" + file
                    // Swap accounting may be off (no memsw file, or no swap.max): the memory limit still holds.
                    if file.contains("sw"), access(path, F_OK) != 0 { continue }
                    try write(value, to: path)
                    applied.append("\(file)=\(value)")
                }
                group.directories[controller] = directory
                var detail = "cgroup \(host.version.rawValue) \(applied.joined(separator: " "))"
                if controller == "cpu", resources.loadingCPU > resources.cpu {
                    detail += " until loaded, then \(cpuQuota(resources.cpu)) (\(resources.cpu) core)"
                }
                report.add(controller, enforced: true, detail)
            } catch {
                rmdir(directory)
                report.add(controller, enforced: false, "cgroup \(host.version.rawValue): \(error)")
            }
        }
        return group
    }

    /// `<id>-<8 hex digits of the root's FNV-1a hash>`.
    public static func groupName(pluginID: String, root: String) -> String {
        var hash: UInt32 = 0x811c_9dc5
        for byte in root.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 0x0100_0193
        }
        let hex = String(hash, radix: 16)
        return pluginID + "-" + String(repeating: "0", count: 8 - hex.count) + hex
    }

    /// Microseconds per period for `cores`.
    static func cpuQuota(_ cores: Double) -> Int {
        max(1000, Int((cores * Double(cpuPeriodMicroseconds)).rounded()))
    }

    /// Lowers the CPU quota from its load-time value to `resources.cpu`, once the plugin loaded
    /// (or failed to). Returns false when the quota could not be written.
    @discardableResult
    public func settleCPU(_ resources: SandboxResources) -> Bool {
        guard resources.loadingCPU > resources.cpu, let directory = directories["cpu"] else { return true }
        let quota = Self.cpuQuota(resources.cpu)
        do throws(SandboxError) {
            if version == .v2 {
                try Self.write("\(quota) \(Self.cpuPeriodMicroseconds)", to: directory + "/cpu.max")
            } else {
                try Self.write(String(quota), to: directory + "/cpu.cfs_quota_us")
            }
            return true
        } catch {
            return false
        }
    }

    /// The `cgroup.procs` files the sandbox's first process writes itself into.
    public var procsFiles: [String] {
        Array(Set(directories.values)).sorted().map { $0 + "/cgroup.procs" }
    }

    /// How many times the kernel's OOM killer killed a process of this group, when it says.
    public func oomKills() -> Int? {
        guard let directory = directories["memory"] else { return nil }
        let file = version == .v2 ? "memory.events" : "memory.oom_control"
        return Self.counter("oom_kill", in: Posix.readText(directory + "/" + file) ?? "")
    }

    /// Memory in use by the sandbox now, in bytes.
    public func memoryInUse() -> UInt64? {
        guard let directory = directories["memory"] else { return nil }
        let file = version == .v2 ? "memory.current" : "memory.usage_in_bytes"
        return Posix.readText(directory + "/" + file).flatMap { UInt64($0.split(separator: "\n").first ?? "") }
    }

    /// How often a fork was refused at pids.max.
    public func pidsLimitHits() -> Int? {
        guard let directory = directories["pids"] else { return nil }
        return Self.counter("max", in: Posix.readText(directory + "/pids.events") ?? "")
    }

    /// The host pids in the sandbox's groups.
    public func processes() -> [Int32] {
        var pids = Set<Int32>()
        for file in procsFiles {
            for line in (Posix.readText(file) ?? "").split(separator: "\n") {
                if let pid = Int32(line) { pids.insert(pid) }
            }
        }
        return pids.sorted()
    }

    /// Kills whatever is still in the groups and removes them (waiting up to a second for the kernel).
    public func remove() {
        for directory in Set(directories.values) { Self.removeStale(directory) }
    }

    static func removeStale(_ directory: String) {
        guard access(directory, F_OK) == 0 else { return }
        for _ in 0..<200 {
            if rmdir(directory) == 0 || errno == ENOENT { return }
            for line in (Posix.readText(directory + "/cgroup.procs") ?? "").split(separator: "\n") {
                if let pid = Int32(line) { kill(pid, SIGKILL) }
            }
            usleep(5000)
        }
    }

    static func counter(_ name: String, in text: String) -> Int? {
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, fields[0] == name { return Int(fields[1]) }
        }
        return nil
    }

    private static func makeDirectory(_ path: String) throws(SandboxError) {
        if mkdir(path, 0o755) != 0, errno != EEXIST { throw .system(operation: "mkdir", path: path, code: errno) }
    }

    private static func write(_ value: String, to path: String) throws(SandboxError) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system(operation: "open", path: path, code: errno) }
        defer { close(fd) }
        guard Posix.writeAll(fd, Array(value.utf8)) else { throw .system(operation: "write \(value) to", path: path, code: errno) }
    }
}
