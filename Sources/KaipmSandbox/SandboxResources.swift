/// The quotas of a plugin's `resources:`, enforced with cgroups.
public struct SandboxResources: Sendable, Equatable {
    /// Memory (and swap) the sandbox may use; past it the kernel kills it.
    public var memoryBytes: UInt64
    /// CPU time per wall-clock time: 0.25 is a quarter of one core, 2 is two cores.
    public var cpu: Double
    /// Processes and threads, the sandbox's own bubblewrap processes included.
    public var pids: Int
    /// The CPU quota until the plugin answered `load`, when higher than `cpu` (nil: `cpu` from the start).
    ///
    /// Python's start and a module's imports cost tens of milliseconds of CPU; under a quarter-core
    /// quota that alone takes four times as long in wall time. The load is bounded by its timeout
    /// and RLIMIT_CPU, so the quota is a rate limit for the plugin's life, not for its start.
    public var startupCPU: Double?

    public init(memoryBytes: UInt64 = 256 << 20, cpu: Double = 1, pids: Int = 64, startupCPU: Double? = nil) {
        self.memoryBytes = memoryBytes
        self.cpu = cpu
        self.pids = pids
        self.startupCPU = startupCPU
    }

    /// The CPU quota while the plugin loads.
    public var loadingCPU: Double { max(cpu, startupCPU ?? cpu) }

    func validate(plugin: String) throws(SandboxError) {
        guard memoryBytes >= 16 << 20 else {
            throw .invalidSpec(plugin: plugin, reason: "memory must be at least 16Mi for Python to start")
        }
        guard cpu >= 0.01, cpu <= 1024 else {
            throw .invalidSpec(plugin: plugin, reason: "cpu must be between 0.01 and 1024 cores, not \(cpu)")
        }
        if let startupCPU, !(startupCPU >= 0.01 && startupCPU <= 1024) {
            throw .invalidSpec(plugin: plugin, reason: "startupCpu must be between 0.01 and 1024 cores, not \(startupCPU)")
        }
        guard pids >= 4 else {
            throw .invalidSpec(plugin: plugin, reason: "pids must be at least 4 (bubblewrap takes 2, Python 1)")
        }
    }
}

/// The rlimits set in the sandbox before exec, whatever cgroups the host has.
public struct ProcessLimits: Sendable, Equatable {
    /// RLIMIT_AS. Virtual size runs well ahead of memory in use (thread stacks, malloc arenas), so
    /// the default is four times the memory quota, at least 1 GiB: the cgroup is the memory limit.
    public var addressSpaceBytes: UInt64
    /// RLIMIT_CPU: SIGXCPU at this many CPU seconds, SIGKILL one second later. The default, a
    /// day of one core, is a backstop for runaways; the cgroup's CPU quota is the rate limit.
    public var cpuSeconds: UInt64
    /// RLIMIT_FSIZE: the largest file the sandbox may write.
    public var fileSizeBytes: UInt64
    /// RLIMIT_NOFILE.
    public var openFiles: UInt64

    public init(addressSpaceBytes: UInt64, cpuSeconds: UInt64 = 86_400,
                fileSizeBytes: UInt64 = 64 << 20, openFiles: UInt64 = 256) {
        self.addressSpaceBytes = addressSpaceBytes
        self.cpuSeconds = cpuSeconds
        self.fileSizeBytes = fileSizeBytes
        self.openFiles = openFiles
    }

    /// The defaults for a plugin's quotas.
    public init(for resources: SandboxResources) {
        self.init(addressSpaceBytes: max(resources.memoryBytes * 4, 1 << 30))
    }
}
