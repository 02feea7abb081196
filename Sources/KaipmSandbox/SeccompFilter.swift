import CKaipmSandboxShims
import CSeccomp
import Glibc

/// The sandbox's syscall filter, built with libseccomp: allow by default, EPERM for the calls a
/// plugin has no business making, whose only uses are escaping, spying or attacking the kernel.
///
/// Exported as a classic BPF program for bubblewrap's `--seccomp FD`, which loads it (with
/// no_new_privs) just before Python starts. System calls of another ABI (i386 via `int 0x80`,
/// x32) hit libseccomp's bad-architecture action and kill the process.
public struct SeccompFilter: Sendable {
    /// Denied outright with EPERM, by name (names this kernel's headers lack are skipped).
    public static let deniedSyscalls: [String] = [
        // Watching or steering other processes.
        "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "process_madvise", "kcmp",
        // Kernel attack surface and privileged subsystems.
        "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
        "keyctl", "add_key", "request_key",
        "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
        "iopl", "ioperm", "uselib", "lookup_dcookie", "quotactl", "quotactl_fd", "nfsservctl",
        // Leaving the namespaces and mounts bubblewrap set up.
        "unshare", "setns", "mount", "umount", "umount2", "pivot_root", "chroot",
        "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
        "name_to_handle_at", "open_by_handle_at",
        // Host-wide state.
        "reboot", "swapon", "swapoff", "acct", "syslog", "vhangup",
        "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
    ]

    /// ioctl requests denied with EPERM: pushing keystrokes into a terminal (TIOCSTI) and the
    /// Linux console's selection and paste (TIOCLINUX).
    public static let deniedIoctls: [(name: String, request: UInt64)] = [("TIOCSTI", 0x5412), ("TIOCLINUX", 0x541C)]

    /// clone(2) flags that create namespaces; clone with any of them gets EPERM.
    static let namespaceCloneFlags: [UInt64] = [
        0x0002_0000, // CLONE_NEWNS
        0x0200_0000, // CLONE_NEWCGROUP
        0x0400_0000, // CLONE_NEWUTS
        0x0800_0000, // CLONE_NEWIPC
        0x1000_0000, // CLONE_NEWUSER
        0x2000_0000, // CLONE_NEWPID
        0x4000_0000, // CLONE_NEWNET
    ]

    private static let allow: UInt32 = 0x7fff_0000 // SCMP_ACT_ALLOW
    private static func fail(_ code: Int32) -> UInt32 { 0x0005_0000 | (UInt32(code) & 0xffff) } // SCMP_ACT_ERRNO

    public init() {}

    /// Builds the filter and writes its BPF program to a fresh memfd, positioned at its start.
    /// The caller owns the returned descriptor (close-on-exec).
    public func exportProgram() throws(SandboxError) -> Int32 {
        guard let context = seccomp_init(Self.allow) else { throw .seccomp(reason: "seccomp_init failed") }
        defer { seccomp_release(context) }
        for name in Self.deniedSyscalls {
            let number = seccomp_syscall_resolve_name(name)
            guard number != __NR_SCMP_ERROR else { continue }
            try Self.add(context, Self.fail(EPERM), number, [], name)
        }
        let ioctl = seccomp_syscall_resolve_name("ioctl")
        for (name, request) in Self.deniedIoctls {
            // Compare the low 32 bits only: the kernel truncates the request to an int.
            let compare = scmp_arg_cmp(arg: 1, op: SCMP_CMP_MASKED_EQ, datum_a: 0xffff_ffff, datum_b: request)
            try Self.add(context, Self.fail(EPERM), ioctl, [compare], "ioctl \(name)")
        }
        let clone = seccomp_syscall_resolve_name("clone")
        for flag in Self.namespaceCloneFlags {
            let compare = scmp_arg_cmp(arg: 0, op: SCMP_CMP_MASKED_EQ, datum_a: flag, datum_b: flag)
            try Self.add(context, Self.fail(EPERM), clone, [compare], "clone with namespace flags")
        }
        // clone3 passes its flags in memory a filter cannot read: ENOSYS makes glibc fall back to clone.
        let clone3 = seccomp_syscall_resolve_name("clone3")
        if clone3 != __NR_SCMP_ERROR { try Self.add(context, Self.fail(ENOSYS), clone3, [], "clone3") }

        let fd = kaipm_memfd("kaipm-seccomp")
        guard fd >= 0 else { throw .system(operation: "memfd_create", path: nil, code: errno) }
        let exported = seccomp_export_bpf(context, fd)
        guard exported == 0 else {
            close(fd)
            throw .seccomp(reason: "seccomp_export_bpf: \(Posix.errorText(-exported))")
        }
        guard lseek(fd, 0, SEEK_SET) == 0 else {
            let code = errno
            close(fd)
            throw .system(operation: "lseek", path: "memfd:kaipm-seccomp", code: code)
        }
        return fd
    }

    private static func add(_ context: scmp_filter_ctx, _ action: UInt32, _ number: Int32,
                            _ comparisons: [scmp_arg_cmp], _ what: String) throws(SandboxError) {
        let result = comparisons.withUnsafeBufferPointer { buffer in
            seccomp_rule_add_array(context, action, number, UInt32(buffer.count), buffer.baseAddress)
        }
        guard result == 0 else { throw .seccomp(reason: "adding the rule for \(what): \(Posix.errorText(-result))") }
    }
}
