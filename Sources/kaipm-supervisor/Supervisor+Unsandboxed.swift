import CKaipmSandboxShims
import Glibc
import KaipmSandbox

extension Supervisor {
    /// Starts the harness without bubblewrap, for a spec with `sandboxed: false` (a preloaded
    /// core plugin the desired state opted out of the sandbox): `SandboxProcess.launch` still
    /// joins the cgroups, sets the rlimits, drops to the sandbox identity, enters the data folder,
    /// starts a new session, sets no_new_privs and loads the seccomp program before exec.
    ///
    /// Child descriptors: 0 /dev/null, 1 and 2 the console pipe, 3 control, 4 the harness source,
    /// 5 the config (both read-only memfds the plugin reads through `/proc/self/fd`: it may not be
    /// able to open the root-owned config file itself).
    func launchUnsandboxed(_ prepared: SandboxPreparation, console: Int32, control: Int32,
                           seccomp: Int32, config: Int32) throws(SandboxError) -> pid_t {
        var owned = [Int32]()
        defer { owned.forEach { close($0) } }
        let harness = try readOnlyMemoryFile("kaipm-harness", Array(HarnessSource.text.utf8))
        owned.append(harness)
        var descriptors: [Int32] = [-1, console, console, control, harness]
        if config >= 0 {
            guard let bytes = Posix.readFile("/proc/self/fd/\(config)") else {
                throw .system(operation: "read", path: prepared.spec.configFile, code: errno)
            }
            let copy = try readOnlyMemoryFile("kaipm-config", bytes)
            owned.append(copy)
            descriptors.append(copy)
        }
        guard let program = Posix.readFile("/proc/self/fd/\(seccomp)") else {
            throw .system(operation: "read", path: "memfd:kaipm-seccomp", code: errno)
        }
        let command = UnsandboxedCommand(spec: prepared.spec, descriptors: UnsandboxedCommand.Descriptors(config: config >= 0 ? 5 : nil))
        return try SandboxProcess.launch(
            arguments: command.arguments, environment: command.environment, descriptors: descriptors,
            cgroupProcsFiles: prepared.cgroup.procsFiles, limits: prepared.limits, identity: prepared.spec.identity,
            direct: DirectLaunch(workingDirectory: prepared.spec.dataDir, seccompProgram: program))
    }

    /// A memfd holding `bytes`, mode 0444, as a read-only descriptor: the plugin can read it again
    /// through `/proc/self/fd/N` but can neither write it nor reopen it for writing.
    private func readOnlyMemoryFile(_ name: String, _ bytes: [UInt8]) throws(SandboxError) -> Int32 {
        let fd = kaipm_memfd(name)
        guard fd >= 0 else { throw .system(operation: "memfd_create", path: nil, code: errno) }
        defer { close(fd) }
        guard Posix.writeAll(fd, bytes), fchmod(fd, 0o444) == 0 else {
            throw .system(operation: "write", path: "memfd:\(name)", code: errno)
        }
        let readOnly = open("/proc/self/fd/\(fd)", O_RDONLY | O_CLOEXEC)
        guard readOnly >= 0 else { throw .system(operation: "reopen read-only", path: "memfd:\(name)", code: errno) }
        return readOnly
    }
}
