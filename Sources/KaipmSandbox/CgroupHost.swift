/// The cgroup hierarchies this host has, and where this process sits in them.
///
/// cgroup v2 ("unified": one `cgroup2` mount at /sys/fs/cgroup) or v1 (one mount per controller,
/// /sys/fs/cgroup/memory, …/cpu, …/pids). A hybrid host (v1 controllers plus an empty `cgroup2`
/// at /sys/fs/cgroup/unified, as here) counts as v1: that is where its controllers are.
public struct CgroupHost: Sendable, Equatable {
    public enum Version: String, Sendable, Equatable {
        case v1, v2, none
    }

    /// The controllers a sandbox's quotas use.
    public static let controllers = ["memory", "cpu", "pids"]

    public var version: Version
    /// v1: controller → the mount point of its hierarchy. v2: every available controller → the one mount.
    public var mounts: [String: String]
    /// Controller → this process's cgroup in that hierarchy (v2: the same path for all).
    public var ownPaths: [String: String]

    public init(version: Version, mounts: [String: String], ownPaths: [String: String]) {
        self.version = version
        self.mounts = mounts
        self.ownPaths = ownPaths
    }

    /// Reads /proc/self/mounts, /proc/self/cgroup and, on v2, the root's cgroup.controllers.
    public static func detect() -> CgroupHost {
        let mounts = Posix.readText("/proc/self/mounts") ?? ""
        let membership = Posix.readText("/proc/self/cgroup") ?? ""
        return parse(mounts: mounts, membership: membership) { mount in
            Posix.readText(mount + "/cgroup.controllers")
        }
    }

    /// Parses the two /proc files; `controllersOf` reads a v2 mount's cgroup.controllers.
    public static func parse(mounts: String, membership: String, controllersOf: (String) -> String?) -> CgroupHost {
        var v1 = [String: String]()
        var unified: String?
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 4 else { continue }
            let point = String(fields[1])
            if fields[2] == "cgroup2" {
                if unified == nil || point == "/sys/fs/cgroup" { unified = point }
            } else if fields[2] == "cgroup" {
                for option in fields[3].split(separator: ",") where controllers.contains(String(option)) {
                    v1[String(option)] = point
                }
            }
        }
        var v1Paths = [String: String]()
        var v2Path: String?
        for line in membership.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            if fields[0] == "0" && fields[1].isEmpty {
                v2Path = String(fields[2])
            } else {
                for name in fields[1].split(separator: ",") { v1Paths[String(name)] = String(fields[2]) }
            }
        }
        if !v1.isEmpty {
            var own = [String: String]()
            for name in v1.keys { own[name] = v1Paths[name] ?? "/" }
            return CgroupHost(version: .v1, mounts: v1, ownPaths: own)
        }
        if let unified, let available = controllersOf(unified) {
            var mounts = [String: String]()
            var own = [String: String]()
            for name in available.split(whereSeparator: { $0 == " " || $0 == "\n" }) where controllers.contains(String(name)) {
                mounts[String(name)] = unified
                own[String(name)] = v2Path ?? "/"
            }
            if !mounts.isEmpty { return CgroupHost(version: .v2, mounts: mounts, ownPaths: own) }
        }
        return CgroupHost(version: .none, mounts: [:], ownPaths: [:])
    }

    /// The folder of this process's own cgroup for a controller, or nil when it is not mounted.
    public func ownDirectory(_ controller: String) -> String? {
        guard let mount = mounts[controller] else { return nil }
        let path = ownPaths[controller] ?? "/"
        return path == "/" ? mount : mount + path
    }
}
