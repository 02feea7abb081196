import Glibc

/// What this host can enforce for sandboxes, checked without starting one: the report a future
/// `kaipm doctor` prints, with the fix for each limit that cannot be enforced.
public enum HostIsolationProbe {
    public static func run(bubblewrap: String = "/usr/bin/bwrap", python: String = "/usr/bin/python3",
                           cgroups: CgroupHost = .detect()) -> IsolationReport {
        var report = IsolationReport()
        report.add("bubblewrap", enforced: access(bubblewrap, X_OK) == 0, access(bubblewrap, X_OK) == 0
            ? "\(bubblewrap)" : "\(bubblewrap) is missing: apt-get install bubblewrap")
        let pythonUsable = access(python, X_OK) == 0 && Posix.isInside(python, "/usr")
        report.add("python", enforced: pythonUsable, pythonUsable
            ? "\(python)" : "\(python) is missing or outside /usr: apt-get install python3")

        var userNamespaces = (Int(Posix.readText("/proc/sys/user/max_user_namespaces")?.split(separator: "\n").first ?? "") ?? 0) > 0
        var detail = userNamespaces ? "available to unprivileged users" : "user.max_user_namespaces is 0: set it above 0 (sysctl)"
        for (file, allowed) in [("/proc/sys/kernel/unprivileged_userns_clone", "1"), ("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "0")] {
            if let value = Posix.readText(file)?.split(separator: "\n").first, value != allowed {
                userNamespaces = false
                detail = "\(file) is \(value): set it to \(allowed) (sysctl), bubblewrap runs unprivileged"
            }
        }
        report.add("userNamespaces", enforced: userNamespaces, detail)

        do {
            let fd = try SeccompFilter().exportProgram()
            close(fd)
            report.add("seccomp", enforced: true, "libseccomp builds the filter")
        } catch {
            report.add("seccomp", enforced: false, "\(error)")
        }

        let root = getuid() == 0
        report.add("identity", enforced: root, root
            ? "kaipm runs as root: each plugin can run as its own uid"
            : "kaipm runs as uid \(getuid()): plugins cannot get uids of their own, nor cgroups")
        for controller in CgroupHost.controllers {
            guard let directory = cgroups.ownDirectory(controller) else {
                report.add(controller, enforced: false, cgroups.version == .none
                    ? "no cgroup hierarchy is mounted" : "the \(controller) controller is not mounted (cgroup \(cgroups.version.rawValue))")
                continue
            }
            let writable = access(directory, W_OK) == 0
            report.add(controller, enforced: writable, writable
                ? "cgroup \(cgroups.version.rawValue) at \(directory)" : "cgroup \(cgroups.version.rawValue) at \(directory) is not writable")
        }
        return report
    }
}
