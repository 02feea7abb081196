import CKaipmSandboxShims
import Glibc

/// One rlimit, as the sandbox's first process sets it before exec.
public struct ResourceLimit: Sendable, Equatable {
    /// `RLIMIT_AS`, …, for reports.
    public var name: String
    public var resource: Int32
    public var soft: UInt64
    public var hard: UInt64
}

extension ProcessLimits {
    /// The rlimits for the sandbox: address space, CPU seconds (SIGXCPU one second before
    /// SIGKILL), file size, open files, no core dumps; and RLIMIT_NPROC when `processes` is given
    /// (the fallback for a host without the pids cgroup, which counts per uid).
    public func resourceLimits(processes: Int?) -> [ResourceLimit] {
        var limits = [
            ResourceLimit(name: "RLIMIT_AS", resource: Int32(RLIMIT_AS.rawValue), soft: addressSpaceBytes, hard: addressSpaceBytes),
            ResourceLimit(name: "RLIMIT_CPU", resource: Int32(RLIMIT_CPU.rawValue), soft: cpuSeconds, hard: cpuSeconds + 1),
            ResourceLimit(name: "RLIMIT_FSIZE", resource: Int32(RLIMIT_FSIZE.rawValue), soft: fileSizeBytes, hard: fileSizeBytes),
            ResourceLimit(name: "RLIMIT_NOFILE", resource: Int32(RLIMIT_NOFILE.rawValue), soft: openFiles, hard: openFiles),
            ResourceLimit(name: "RLIMIT_CORE", resource: Int32(RLIMIT_CORE.rawValue), soft: 0, hard: 0),
        ]
        if let processes {
            limits.append(ResourceLimit(name: "RLIMIT_NPROC", resource: Int32(__RLIMIT_NPROC.rawValue),
                                        soft: UInt64(processes), hard: UInt64(processes)))
        }
        return limits
    }
}

/// What a process started without bubblewrap must do for itself before exec, which bubblewrap
/// otherwise does for the sandbox (`--chdir`, `--new-session`, `--seccomp` with no_new_privs).
public struct DirectLaunch: Sendable, Equatable {
    /// The working directory, entered as the sandbox user.
    public var workingDirectory: String
    /// The seccomp BPF program (`SeccompFilter.programBytes()`); nil loads none.
    public var seccompProgram: [UInt8]?

    public init(workingDirectory: String, seccompProgram: [UInt8]?) {
        self.workingDirectory = workingDirectory
        self.seccompProgram = seccompProgram
    }
}

/// Starts a sandbox's first process: fork, then in the child join the cgroups, lay out the
/// descriptors, set the rlimits, drop to the sandbox identity and exec (see CKaipmSandboxShims).
public enum SandboxProcess {
    /// Forks and execs `arguments[0]`; child descriptor i is a copy of `descriptors[i]` (-1:
    /// /dev/null). Returns the child's pid once exec succeeded. Single-threaded callers only.
    /// With `direct`, the child also changes directory, starts a new session, sets no_new_privs
    /// and loads the seccomp program itself, as an unsandboxed plugin has no bubblewrap to.
    public static func launch(arguments: [String], environment: [String] = ["PATH=/usr/bin:/bin"],
                              descriptors: [Int32], cgroupProcsFiles: [String], limits: [ResourceLimit],
                              identity: SandboxIdentity?, direct: DirectLaunch? = nil) throws(SandboxError) -> pid_t {
        var cgroupFDs = [Int32]()
        defer { cgroupFDs.forEach { close($0) } }
        for file in cgroupProcsFiles {
            let fd = open(file, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw .system(operation: "open", path: file, code: errno) }
            cgroupFDs.append(fd)
        }
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        let rlimits = limits.map { kaipm_rlimit(resource: $0.resource, soft: $0.soft, hard: $0.hard) }
        let cwd = direct.map { strdup($0.workingDirectory) } ?? nil
        defer { free(cwd) }
        let seccomp = direct?.seccompProgram ?? []
        var pid: pid_t = 0
        var step: Int32 = 0
        let result = argv.withUnsafeBufferPointer { argvBuffer in
            envp.withUnsafeBufferPointer { envpBuffer in
                descriptors.withUnsafeBufferPointer { fdBuffer in
                    cgroupFDs.withUnsafeBufferPointer { cgroupBuffer in
                        rlimits.withUnsafeBufferPointer { limitBuffer in
                            seccomp.withUnsafeBytes { seccompBytes in
                                arguments[0].withCString { path in
                                    var launch = kaipm_sandbox_launch()
                                    launch.path = path
                                    launch.argv = argvBuffer.baseAddress
                                    launch.envp = envpBuffer.baseAddress
                                    launch.fds = fdBuffer.baseAddress
                                    launch.fd_count = Int32(fdBuffer.count)
                                    launch.cgroup_procs_fds = cgroupBuffer.baseAddress
                                    launch.cgroup_count = Int32(cgroupBuffer.count)
                                    launch.limits = limitBuffer.baseAddress
                                    launch.limit_count = Int32(limitBuffer.count)
                                    launch.set_identity = identity == nil ? 0 : 1
                                    launch.uid = identity?.uid ?? 0
                                    launch.gid = identity?.gid ?? 0
                                    if direct != nil {
                                        launch.cwd = UnsafePointer(cwd)
                                        launch.new_session = 1
                                        launch.no_new_privs = 1
                                        if !seccomp.isEmpty {
                                            launch.seccomp_program = seccompBytes.baseAddress
                                            launch.seccomp_length = UInt(seccompBytes.count)
                                        }
                                    }
                                    return kaipm_launch_sandbox(&launch, &pid, &step)
                                }
                            }
                        }
                    }
                }
            }
        }
        guard result == 0 else {
            let steps = [1: "fork", 2: "set the parent-death signal", 3: "join its cgroups", 4: "lay out descriptors",
                         5: "set rlimits", 6: "drop to the sandbox user", 7: "reset signals", 8: "exec \(arguments[0])",
                         9: "enter its working directory \(direct?.workingDirectory ?? "")", 10: "start a new session",
                         11: "set no_new_privs", 12: "load its seccomp filter"]
            throw .system(operation: "starting the sandbox: the child could not \(steps[Int(step)] ?? "start")", path: nil, code: errno)
        }
        return pid
    }
}
