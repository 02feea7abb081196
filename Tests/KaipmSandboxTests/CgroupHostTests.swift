import KaipmSandbox
import Testing

/// Which cgroup version a host has, from its /proc files.
@Suite("Cgroup host")
struct CgroupHostTests {
    @Test func aHybridHostWithV1ControllersIsV1() {
        let mounts = """
            tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0
            cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0
            cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0
            cgroup /sys/fs/cgroup/pids cgroup rw,relatime,pids 0 0
            cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0
            """
        let membership = "8:pids:/\n4:memory:/process_api/5f5d\n1:cpu:/\n0::/\n"
        let host = CgroupHost.parse(mounts: mounts, membership: membership) { _ in "" }
        #expect(host.version == .v1)
        #expect(host.ownDirectory("memory") == "/sys/fs/cgroup/memory/process_api/5f5d")
        #expect(host.ownDirectory("pids") == "/sys/fs/cgroup/pids")
        #expect(host.ownDirectory("cpu") == "/sys/fs/cgroup/cpu")
    }

    @Test func coMountedControllersShareAHierarchy() {
        let host = CgroupHost.parse(mounts: "cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,cpu,cpuacct 0 0\n",
                                    membership: "2:cpu,cpuacct:/user.slice\n") { _ in nil }
        #expect(host.version == .v1)
        #expect(host.ownDirectory("cpu") == "/sys/fs/cgroup/cpu,cpuacct/user.slice")
        #expect(host.ownDirectory("memory") == nil)
    }

    @Test func aUnifiedHostIsV2WithTheControllersItOffers() {
        let host = CgroupHost.parse(mounts: "cgroup2 /sys/fs/cgroup cgroup2 rw,nsdelegate 0 0\n",
                                    membership: "0::/system.slice/kaipm.service\n") { mount in
            mount == "/sys/fs/cgroup" ? "cpuset cpu io memory pids\n" : nil
        }
        #expect(host.version == .v2)
        #expect(host.ownDirectory("memory") == "/sys/fs/cgroup/system.slice/kaipm.service")
        #expect(host.mounts.keys.sorted() == ["cpu", "memory", "pids"])
    }

    @Test func noHierarchyIsNone() {
        let host = CgroupHost.parse(mounts: "proc /proc proc rw 0 0\n", membership: "") { _ in nil }
        #expect(host.version == .none)
        var report = IsolationReport()
        let group = SandboxCgroup.create(pluginID: "x", root: "/r", resources: SandboxResources(), host: host, report: &report)
        #expect(group.directories.isEmpty)
        #expect(report.notEnforced.map(\.limit) == ["memory", "cpu", "pids"])
        #expect(report["memory"]?.detail == "no cgroup hierarchy is mounted")
    }

    @Test func groupsAreNamedByPluginAndRoot() {
        let one = SandboxCgroup.groupName(pluginID: "notes", root: "/var/lib/kaipm")
        #expect(one.hasPrefix("notes-") && one.count == "notes-".count + 8)
        #expect(one == SandboxCgroup.groupName(pluginID: "notes", root: "/var/lib/kaipm"))
        #expect(one != SandboxCgroup.groupName(pluginID: "notes", root: "/tmp/other-root"))
    }

    @Test func thisHostIsV1WithMemoryCPUAndPids() {
        // DESIGN.md's facts of this machine kind; the sandbox tests rely on them.
        let host = CgroupHost.detect()
        #expect(host.version == .v1)
        #expect(host.mounts.keys.sorted() == ["cpu", "memory", "pids"])
    }
}

@Suite("Host isolation probe")
struct HostIsolationProbeTests {
    @Test func thisHostCanEnforceEverything() {
        let report = HostIsolationProbe.run()
        #expect(report.items.map(\.limit) == ["bubblewrap", "python", "userNamespaces", "seccomp", "identity", "memory", "cpu", "pids"])
        #expect(report.notEnforced.isEmpty, "\(report.notEnforced)")
    }

    @Test func aMissingBubblewrapAndNoCgroupsAreReportedWithTheFix() {
        let report = HostIsolationProbe.run(bubblewrap: "/nonexistent/bwrap", cgroups: CgroupHost(version: .none, mounts: [:], ownPaths: [:]))
        #expect(report["bubblewrap"] == IsolationReport.Item(limit: "bubblewrap", enforced: false, detail: "/nonexistent/bwrap is missing: apt-get install bubblewrap"))
        #expect(report.notEnforced.map(\.limit) == ["bubblewrap", "memory", "cpu", "pids"])
    }
}
