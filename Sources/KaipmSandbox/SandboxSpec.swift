/// Everything a supervisor needs to run one plugin in its sandbox.
///
/// The reconciler fills it from the desired plugin (grants, resources, entry points) and the host
/// layout; the supervisor reads it from `<root>/kos/run/<id>.spec.json` (see `SandboxSpec+JSON`).
public struct SandboxSpec: Sendable, Equatable {
    /// The plugin id; also names its socket, status, log and cgroups.
    public var pluginID: String
    /// The kaipm root (`--root`): the run and log folders and the paths grants may never reach.
    public var root: String
    /// The plugin's store entry (`<root>/kos/plugins/store/<hex>`), bound read-only at `/plugin`.
    public var storeEntry: String
    /// The plugin's data folder (`<root>/kos/data/<id>`), bound read-write at `/data`.
    public var dataDir: String
    /// The rendered config (`<root>/kos/config/plugins/<id>.config.yaml`), copied read-only to
    /// `/config/config.yaml`; nil when the plugin has none.
    public var configFile: String?
    /// `main.py` and the hooks the manifest declares.
    public var entryPoints: EntryPoints
    public var grants: SandboxGrants
    public var resources: SandboxResources
    public var limits: ProcessLimits
    /// The unprivileged host user the sandbox runs as; nil runs it as the supervisor's own user.
    public var identity: SandboxIdentity?
    public var timeouts: SandboxTimeouts
    public var log: LogPolicy
    /// Size of the sandbox's `/tmp` (a tmpfs, charged to its memory cgroup).
    public var tmpBytes: UInt64
    /// Start even when a limit cannot be enforced on this host (`isolation.allowWeaker`).
    public var allowWeakerIsolation: Bool
    /// The version running, echoed into the status file for the reconciler to observe.
    public var version: String?
    /// The digest of the config running, echoed into the status file.
    public var configHash: String?
    /// The bubblewrap executable.
    public var bubblewrap: String
    /// The Python the harness runs with; it must live under `/usr`, which is all the sandbox sees.
    public var python: String
    /// Whether the plugin runs in bubblewrap (the default). False starts the harness directly
    /// (`UnsandboxedCommand`): no namespaces, but still the rlimits, cgroups, its own uid, a
    /// cleared environment, no_new_privs and the seccomp filter. Only a core plugin preloaded in
    /// kos.config.yaml whose desired entry and plugin.json both say `sandbox: false` gets here.
    public var sandboxed: Bool

    public init(
        pluginID: String, root: String, storeEntry: String, dataDir: String, configFile: String?,
        entryPoints: EntryPoints = EntryPoints(), grants: SandboxGrants = SandboxGrants(),
        resources: SandboxResources = SandboxResources(), limits: ProcessLimits? = nil,
        identity: SandboxIdentity? = nil, timeouts: SandboxTimeouts = SandboxTimeouts(),
        log: LogPolicy = LogPolicy(), tmpBytes: UInt64 = 16 << 20, allowWeakerIsolation: Bool = false,
        version: String? = nil, configHash: String? = nil,
        bubblewrap: String = "/usr/bin/bwrap", python: String = "/usr/bin/python3", sandboxed: Bool = true
    ) {
        self.pluginID = pluginID
        self.root = root
        self.storeEntry = storeEntry
        self.dataDir = dataDir
        self.configFile = configFile
        self.entryPoints = entryPoints
        self.grants = grants
        self.resources = resources
        self.limits = limits ?? ProcessLimits(for: resources)
        self.identity = identity
        self.timeouts = timeouts
        self.log = log
        self.tmpBytes = tmpBytes
        self.allowWeakerIsolation = allowWeakerIsolation
        self.version = version
        self.configHash = configHash
        self.bubblewrap = bubblewrap
        self.python = python
        self.sandboxed = sandboxed
    }

    /// Checks what can be checked without touching the host: the id, absolute paths, quotas.
    public func validate() throws(SandboxError) {
        guard SandboxSpec.isValidID(pluginID) else {
            throw .invalidSpec(plugin: pluginID, reason: "the id must be 1-64 of a-z, 0-9, '-', '_' or '.', starting with a letter or digit")
        }
        for (name, path) in [("root", root), ("storeEntry", storeEntry), ("dataDir", dataDir),
                             ("configFile", configFile ?? "/"), ("bubblewrap", bubblewrap), ("python", python)] {
            guard path.hasPrefix("/") else {
                throw .invalidSpec(plugin: pluginID, reason: "\(name) must be an absolute path, not '\(path)'")
            }
        }
        guard Posix.isInside(python, "/usr") else {
            throw .invalidSpec(plugin: pluginID, reason: "python must live under /usr (the sandbox sees only /usr), not '\(python)'")
        }
        try entryPoints.validate(plugin: pluginID)
        try resources.validate(plugin: pluginID)
        if let identity, identity.uid == 0 || identity.gid == 0 {
            throw .invalidSpec(plugin: pluginID, reason: "the sandbox identity must not be root (uid/gid 0)")
        }
        guard tmpBytes >= 1 << 20 else {
            throw .invalidSpec(plugin: pluginID, reason: "tmpBytes must be at least 1 MiB")
        }
    }

    /// Plugin ids are file names and cgroup names: a conservative alphabet, no `..`.
    public static func isValidID(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        guard (1...64).contains(bytes.count), let first = bytes.first else { return false }
        func allowed(_ byte: UInt8) -> Bool {
            (0x61...0x7a).contains(byte) || (0x30...0x39).contains(byte) || byte == 0x2d || byte == 0x5f || byte == 0x2e
        }
        return bytes.allSatisfy(allowed) && first != 0x2d && first != 0x2e && first != 0x5f && !id.contains("..")
    }
}

/// The Python files the harness loads, relative to the plugin folder.
public struct EntryPoints: Sendable, Equatable {
    /// The main module (`main.py`), imported first and importable by the hooks as its stem (`import main`).
    public var main: String
    /// Hook name (`onLoad`, `onUnload`, `onCommand`, …) → file (`hooks/onLoad.py`).
    public var hooks: [String: String]

    public init(main: String = "main.py", hooks: [String: String] = [:]) {
        self.main = main
        self.hooks = hooks
    }

    func validate(plugin: String) throws(SandboxError) {
        for (name, path) in [("main", main)] + hooks.sorted(by: { $0.key < $1.key }) {
            let parts = path.split(separator: "/", omittingEmptySubsequences: false)
            guard !path.hasPrefix("/"), path.hasSuffix(".py"), !parts.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
                throw .invalidSpec(plugin: plugin, reason: "entry point \(name) must be a relative .py path inside the plugin, not '\(path)'")
            }
        }
        for name in hooks.keys where !name.utf8.allSatisfy({ (0x61...0x7a).contains($0) || (0x41...0x5a).contains($0) || (0x30...0x39).contains($0) }) {
            throw .invalidSpec(plugin: plugin, reason: "hook name '\(name)' must be camelCase letters and digits (onLoad)")
        }
    }
}

/// The unprivileged host user and group a sandbox runs as.
///
/// Each plugin should get its own uid (the reconciler allocates them from `firstUID` and keeps
/// them in the registry): its data folder is then its own, other plugins' files are not, and
/// RLIMIT_NPROC counts its processes only. No passwd entry is needed.
public struct SandboxIdentity: Sendable, Equatable {
    /// The first uid kaipm hands out ("KP" << 16), far above any distribution's range.
    public static let firstUID: UInt32 = 0x4B50_0000

    public var uid: UInt32
    public var gid: UInt32

    public init(uid: UInt32, gid: UInt32) {
        self.uid = uid
        self.gid = gid
    }
}

/// How long the supervisor waits for the harness.
public struct SandboxTimeouts: Sendable, Equatable {
    /// `load` (importing the plugin and `onLoad`).
    public var loadMilliseconds: Int
    /// `onUnload`, before SIGTERM.
    public var unloadMilliseconds: Int
    /// A request that names no timeout of its own.
    public var requestMilliseconds: Int
    /// From SIGTERM to SIGKILL.
    public var killGraceMilliseconds: Int

    public init(loadMilliseconds: Int = 5000, unloadMilliseconds: Int = 2000,
                requestMilliseconds: Int = 10000, killGraceMilliseconds: Int = 1000) {
        self.loadMilliseconds = loadMilliseconds
        self.unloadMilliseconds = unloadMilliseconds
        self.requestMilliseconds = requestMilliseconds
        self.killGraceMilliseconds = killGraceMilliseconds
    }
}

/// How big the console log may grow before it is rotated, and how many old ones are kept.
public struct LogPolicy: Sendable, Equatable {
    public var maxBytes: Int
    /// Rotated files kept (`<id>.log.1` … `<id>.log.<keep>`).
    public var keep: Int

    public init(maxBytes: Int = 1 << 20, keep: Int = 2) {
        self.maxBytes = maxBytes
        self.keep = keep
    }
}
