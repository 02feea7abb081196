import Glibc

/// What a sandbox is about to be started with, decided from its spec and this host: paths
/// checked and canonical, grants checked, the data folder owned by the sandbox user, cgroups
/// made, rlimits chosen, and the isolation report of what is enforced.
public struct SandboxPreparation: Sendable {
    /// The spec with canonical store, data and config paths.
    public var spec: SandboxSpec
    public var grants: [CheckedGrant]
    public var cgroup: SandboxCgroup
    public var limits: [ResourceLimit]
    public var report: IsolationReport

    /// Prepares the host for `spec`. Throws when the spec is unusable or, unless the spec allows
    /// weaker isolation, when a limit cannot be enforced here (nothing is left behind then).
    public static func prepare(_ spec: SandboxSpec, host: CgroupHost = .detect()) throws(SandboxError) -> SandboxPreparation {
        try spec.validate()
        let layout = SandboxLayout(spec: spec)
        var spec = spec
        spec.storeEntry = try canonical(spec.storeEntry, inside: layout.store, what: "storeEntry", plugin: spec.pluginID)
        if let config = spec.configFile {
            spec.configFile = try canonical(config, inside: layout.configDir, what: "configFile", plugin: spec.pluginID)
        }
        spec.dataDir = try prepareData(spec, layout: layout)
        let grants = try GrantPolicy(pluginID: spec.pluginID, root: spec.root).check(spec.grants.filesystem)

        var report = IsolationReport()
        let root = getuid() == 0
        let seccomp = "\(SeccompFilter.deniedSyscalls.count) system calls, ioctl TIOCSTI and TIOCLINUX, and namespace clone flags fail with EPERM"
        if spec.sandboxed {
            report.add("namespaces", enforced: true, "new user, pid, ipc, uts, cgroup and mount namespaces; no capabilities; no further user namespaces")
            report.add("network", enforced: true, spec.grants.network
                ? "granted: the host's network is shared (all-or-nothing; per-host rules are not enforced yet)"
                : "none: its own network namespace with loopback only")
            report.add("seccomp", enforced: true, seccomp)
        } else {
            // Opted out by the desired state, so waived rather than refused; what still holds follows.
            guard spec.identity != nil || !root else {
                throw .invalidSpec(plugin: spec.pluginID, reason: "an unsandboxed plugin needs a sandbox identity: it would run as root with every capability")
            }
            report.waive("namespaces", "unsandboxed: no namespaces, shares the host file system, network and processes (sandbox: false, a preloaded core plugin)")
            report.waive("network", "unsandboxed: the host's network, unfiltered")
            report.add("seccomp", enforced: true, seccomp + "; loaded by kaipm-supervisor with no_new_privs before Python starts")
        }
        switch (spec.identity, root) {
        case let (identity?, true):
            report.add("identity", enforced: true, "runs as uid \(identity.uid) gid \(identity.gid)")
        case let (identity?, false):
            report.add("identity", enforced: false, "cannot switch to uid \(identity.uid): the supervisor runs as uid \(getuid()), not root")
        case (nil, true):
            report.add("identity", enforced: false, "runs as host root (uid 0) without capabilities; give the plugin its own SandboxIdentity")
        case (nil, false):
            report.add("identity", enforced: true, "runs as the supervisor's uid \(getuid())")
        }

        let cgroup = SandboxCgroup.create(pluginID: spec.pluginID, root: layout.root, resources: spec.resources, host: host, report: &report)
        var processes: Int?
        if cgroup.directories["pids"] == nil, let index = report.items.firstIndex(where: { $0.limit == "pids" }) {
            // Without the pids cgroup, RLIMIT_NPROC bounds the processes of the sandbox's own uid.
            if spec.identity != nil && root {
                processes = spec.resources.pids
                report.items[index] = IsolationReport.Item(limit: "pids", enforced: true,
                    detail: "RLIMIT_NPROC=\(spec.resources.pids) for the sandbox's uid (\(report.items[index].detail))")
            }
        }
        let limits = spec.limits.resourceLimits(processes: processes)
        report.add("rlimits", enforced: true, limits.map { "\($0.name)=\($0.soft)" }.joined(separator: " "))

        let missing = report.notEnforced
        if !missing.isEmpty && !spec.allowWeakerIsolation {
            cgroup.remove()
            throw .isolationNotEnforced(plugin: spec.pluginID, limits: missing.map { "\($0.limit) (\($0.detail))" })
        }
        return SandboxPreparation(spec: spec, grants: grants, cgroup: cgroup, limits: limits, report: report)
    }

    private static func canonical(_ path: String, inside folder: String, what: String, plugin: String) throws(SandboxError) -> String {
        guard let resolved = Posix.canonicalPath(path) else { throw .system(operation: "realpath of \(what)", path: path, code: errno) }
        let base = Posix.canonicalPath(folder) ?? folder
        guard Posix.isInside(resolved, base), resolved != base else {
            throw .invalidSpec(plugin: plugin, reason: "\(what) \(path) is not inside \(folder)")
        }
        return resolved
    }

    /// Makes sure the data folder exists, is the plugin's own, and belongs to the sandbox user.
    private static func prepareData(_ spec: SandboxSpec, layout: SandboxLayout) throws(SandboxError) -> String {
        try Posix.makeDirectories(Posix.parent(layout.dataDir))
        if mkdir(layout.dataDir, 0o700) != 0, errno != EEXIST { throw .system(operation: "mkdir", path: layout.dataDir, code: errno) }
        guard let data = Posix.canonicalPath(spec.dataDir), data == Posix.canonicalPath(layout.dataDir) else {
            throw .invalidSpec(plugin: spec.pluginID, reason: "dataDir \(spec.dataDir) is not the plugin's data folder \(layout.dataDir)")
        }
        guard let identity = spec.identity, getuid() == 0, let info = Posix.status(data) else { return data }
        if info.st_uid != identity.uid || info.st_gid != identity.gid {
            // A new identity (or a folder kaipm made as root): hand over everything in it.
            try chownTree(data, uid: identity.uid, gid: identity.gid)
        }
        guard chmod(data, 0o700) == 0 else { throw .system(operation: "chmod", path: data, code: errno) }
        return data
    }

    private static func chownTree(_ path: String, uid: UInt32, gid: UInt32) throws(SandboxError) {
        guard lchown(path, uid, gid) == 0 else { throw .system(operation: "chown", path: path, code: errno) }
        guard let info = Posix.status(path), info.st_mode & S_IFMT == S_IFDIR,
              let directory = opendir(path) else { return }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            let child = Posix.join(path, name)
            var childInfo = stat()
            guard lstat(child, &childInfo) == 0 else { continue }
            if childInfo.st_mode & S_IFMT == S_IFDIR {
                try chownTree(child, uid: uid, gid: gid)
            } else {
                guard lchown(child, uid, gid) == 0 else { throw .system(operation: "chown", path: child, code: errno) }
            }
        }
    }
}
