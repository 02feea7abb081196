/// The bubblewrap command line of one sandbox: deny by default, then what the spec grants.
///
/// Pure: the same spec, grants, descriptors and host layout give the same argv, so the isolation
/// a plugin gets can be read (and tested) without starting anything. Inside the sandbox:
///
/// - new user, pid, ipc, uts and cgroup namespaces, and a new network namespace (loopback only)
///   unless the spec grants the network; no further user namespaces (`--disable-userns`);
/// - no capabilities, `--die-with-parent`, `--new-session` (no TIOCSTI into the caller's
///   terminal), an environment of the spec's making only (`--clearenv`);
/// - `/usr` read-only (with the host's `/lib`-style symlinks), the store entry read-only at
///   `/plugin`, the data folder read-write at `/data`, the config read-only at
///   `/config/config.yaml`, the harness read-only at `/kaipm/harness.py`, a size-capped tmpfs
///   at `/tmp`, bubblewrap's minimal `/dev`; no `/proc`, `/sys`, `/etc`, `/run` or `/home`;
/// - the granted paths at their own paths, then the root made read-only;
/// - the seccomp program read from a descriptor, loaded just before Python starts.
public struct BubblewrapCommand: Sendable, Equatable {
    /// The descriptors the supervisor hands to bubblewrap, by number in the child.
    public struct Descriptors: Sendable, Equatable {
        /// The harness's end of the control channel (a socketpair); stays open in the sandbox.
        public var control: Int32
        /// The seccomp BPF program, read and closed by bubblewrap; nil for no filter (tests only).
        public var seccomp: Int32?
        /// The config's bytes, copied into the sandbox and closed by bubblewrap.
        public var config: Int32?
        /// The harness's source, copied into the sandbox and closed by bubblewrap.
        public var harness: Int32

        public init(control: Int32 = 3, seccomp: Int32? = 4, config: Int32? = 5, harness: Int32 = 6) {
            self.control = control
            self.seccomp = seccomp
            self.config = config
            self.harness = harness
        }
    }

    /// Where the harness is inside the sandbox.
    public static let harnessPath = "/kaipm/harness.py"
    /// Where the plugin's config is inside the sandbox.
    public static let configPath = "/config/config.yaml"

    /// The full argv, bubblewrap's path first.
    public let arguments: [String]

    public init(spec: SandboxSpec, grants: [CheckedGrant], descriptors: Descriptors = Descriptors(),
                system: HostSystemLayout = .mergedUsr) {
        var args = [spec.bubblewrap]
        args += ["--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup"]
        if !spec.grants.network { args += ["--unshare-net"] }
        args += ["--disable-userns"]
        args += ["--die-with-parent", "--new-session", "--cap-drop", "ALL"]
        args += ["--hostname", spec.pluginID]
        args += ["--clearenv"]
        for (name, value) in Self.environment(spec: spec) { args += ["--setenv", name, value] }

        args += ["--ro-bind", "/usr", "/usr"]
        for entry in system.entries {
            switch entry {
            case let .symlink(path, target): args += ["--symlink", target, path]
            case let .directory(path): args += ["--ro-bind", path, path]
            }
        }
        args += ["--dev", "/dev"]
        args += ["--size", String(spec.tmpBytes), "--tmpfs", "/tmp"]
        args += ["--ro-bind", spec.storeEntry, "/plugin"]
        args += ["--bind", spec.dataDir, "/data"]
        if let config = descriptors.config {
            args += ["--ro-bind-data", String(config), Self.configPath]
        }
        args += ["--ro-bind-data", String(descriptors.harness), Self.harnessPath]
        for grant in grants {
            args += [grant.mode == .readOnly ? "--ro-bind" : "--bind", grant.path, grant.path]
        }
        args += ["--remount-ro", "/"]
        args += ["--chdir", "/data"]
        if let seccomp = descriptors.seccomp { args += ["--seccomp", String(seccomp)] }
        args += ["--", spec.python, "-I", "-S", "-B", "-X", "utf8", Self.harnessPath, "--control-fd", String(descriptors.control)]
        arguments = args
    }

    /// The whole environment a plugin sees.
    static func environment(spec: SandboxSpec) -> [(String, String)] {
        [
            ("PATH", "/usr/bin:/bin"),
            ("HOME", "/data"),
            ("TMPDIR", "/tmp"),
            ("LANG", "C.UTF-8"),
            ("KAI_PLUGIN_ID", spec.pluginID),
            ("KAI_PLUGIN_DATA", "/data"),
            ("KAI_PLUGIN_CONFIG", configPathIfAny(spec)),
        ]
    }

    private static func configPathIfAny(_ spec: SandboxSpec) -> String {
        spec.configFile == nil ? "" : configPath
    }
}
