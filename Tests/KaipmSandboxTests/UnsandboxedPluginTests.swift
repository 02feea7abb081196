import Foundation
import KaipmSandbox
import Testing

/// A plugin started without bubblewrap (`sandboxed: false`, for preloaded core plugins): it shares
/// the host's file system and processes, but keeps everything `SandboxProcess.launch` gives.
@Suite("Unsandboxed plugins")
struct UnsandboxedPluginTests {
    @Test func theSpecCarriesSandboxedAndDefaultsToTrue() throws {
        var spec = SandboxSpec(pluginID: "core", root: "/r", storeEntry: "/r/kos/plugins/store/ab", dataDir: "/r/kos/data/core",
                               configFile: nil)
        #expect(spec.sandboxed)
        #expect(try SandboxSpec(json: spec.json).sandboxed)
        spec.sandboxed = false
        #expect(spec.json["sandboxed"] == .bool(false))
        #expect(try SandboxSpec(json: spec.json) == spec)
        // A spec file without the field (an older kaipm) is sandboxed.
        let older = JSON.object((spec.json.objectValue ?? []).filter { $0.key != "sandboxed" })
        #expect(try SandboxSpec(json: older).sandboxed)
    }

    @Test func theCommandRunsTheHarnessDirectlyWithTheRealPathsAndTheSandboxEnvironment() {
        let spec = SandboxSpec(pluginID: "core", root: "/r", storeEntry: "/r/kos/plugins/store/ab", dataDir: "/r/kos/data/core",
                               configFile: "/r/kos/config/plugins/core.config.yaml", sandboxed: false)
        let command = UnsandboxedCommand(spec: spec)
        #expect(command.arguments == ["/usr/bin/python3", "-I", "-S", "-B", "-X", "utf8", "/proc/self/fd/4", "--control-fd", "3",
                                      "--plugin-dir", "/r/kos/plugins/store/ab", "--data-dir", "/r/kos/data/core"])
        #expect(command.environment == ["PATH=/usr/bin:/bin", "HOME=/r/kos/data/core", "TMPDIR=/tmp", "LANG=C.UTF-8",
                                        "KAI_PLUGIN_ID=core", "KAI_PLUGIN_DATA=/r/kos/data/core", "KAI_PLUGIN_CONFIG=/proc/self/fd/5"])
        #expect(command.configPath == "/proc/self/fd/5")
        var bare = spec
        bare.configFile = nil
        #expect(UnsandboxedCommand(spec: bare).configPath == nil)
        #expect(UnsandboxedCommand(spec: bare).environment.last == "KAI_PLUGIN_CONFIG=")
    }

    @Test func preparationWaivesTheNamespacesButNotTheQuotas() throws {
        let fixture = try SandboxFixture("waive")
        fixture.spec.sandboxed = false
        let prepared = try SandboxPreparation.prepare(fixture.spec)
        defer { prepared.cgroup.remove() }
        let report = prepared.report
        #expect(report.isUnsandboxed)
        #expect(report.notEnforced.isEmpty, "\(report.notEnforced)")
        #expect(report["namespaces"]?.detail.hasPrefix("unsandboxed: no namespaces, shares the host file system, network and processes") == true)
        #expect(report["namespaces"]?.waived == true && report["network"]?.waived == true)
        #expect(report["seccomp"]?.enforced == true)
        #expect(report["rlimits"]?.enforced == true)
        #expect(IsolationReport(json: report.json) == report)

        // Opting out of the sandbox is not opting out of the quotas: a host without cgroups still refuses.
        let bare = CgroupHost(version: .none, mounts: [:], ownPaths: [:])
        #expect(throws: SandboxError.self) { try SandboxPreparation.prepare(fixture.spec, host: bare) }
    }

    @Test(.enabled(if: getuid() == 0, "needs root to run as the sandbox user"))
    func anUnsandboxedPluginWithoutAnIdentityIsRefused() throws {
        let fixture = try SandboxFixture("noident")
        fixture.spec.sandboxed = false
        fixture.spec.identity = nil
        fixture.spec.allowWeakerIsolation = true
        #expect(throws: SandboxError.self) { try SandboxPreparation.prepare(fixture.spec) }
    }

    /// The plugin sees the host (its real paths, the host's /proc) and still runs under its limits.
    @Test func anUnsandboxedPluginSharesTheHostButKeepsItsLimits() throws {
        let fixture = try SandboxFixture("nosbx")
        fixture.spec.sandboxed = false
        let handle = try fixture.start()
        #expect(try fixture.request("health")["loaded"] == true)
        let status = try #require(try SupervisorStatus.read(fixture.layout))
        // The supervisor stays within the budget of startsToHealthyQuicklyAndTheSupervisorStaysSmall.
        let rss = try #require(Posix.readText("/proc/\(handle.pid)/status")?.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        let kib = try #require(Int(rss.split(separator: " ", omittingEmptySubsequences: true)[1]))
        let budget = Posix.readText("/proc/\(handle.pid)/maps")?.contains("libswiftCore.so") == true ? 12 * 1024 : 8 * 1024
        print("unsandboxed plugin: supervisor VmRSS \(kib) KiB")
        #expect(kib < budget, "supervisor VmRSS \(kib) KiB against \(budget) KiB")
        #expect(status.isolation.isUnsandboxed)
        let seen = try fixture.command("process")
        let store = try #require(Posix.canonicalPath(fixture.spec.storeEntry))
        let data = try #require(Posix.canonicalPath(fixture.spec.dataDir))

        // The host's /proc, pids and all: no pid namespace; the plugin is the supervisor's own child.
        let pids = try #require(seen["pids"]?.arrayValue).compactMap(\.intValue)
        #expect(pids.contains(Int(getpid())))
        #expect(seen["pid"]?.intValue == Int(status.sandboxPID ?? -1))
        #expect(seen["sid"] == seen["pid"], "a session of its own")
        // Loaded from the real store entry and working in the real data folder.
        #expect(seen["pluginDir"] == .string(store))
        #expect(seen["mainFile"] == .string(store + "/main.py"))
        #expect(seen["dataDir"] == .string(data))
        #expect(seen["cwd"] == .string(data))
        #expect(seen["config"] == ["greeting": "Hello"])
        // The same cleared environment as in bubblewrap, with the real folders.
        #expect(seen["env"] == .object([
            JSON.Member("PATH", "/usr/bin:/bin"), JSON.Member("HOME", .string(data)), JSON.Member("TMPDIR", "/tmp"),
            JSON.Member("LANG", "C.UTF-8"), JSON.Member("KAI_PLUGIN_ID", .string(fixture.pluginID)),
            JSON.Member("KAI_PLUGIN_DATA", .string(data)), JSON.Member("KAI_PLUGIN_CONFIG", "/proc/self/fd/5"),
        ]))
        // rlimits, no_new_privs and the seccomp filter still hold.
        let limits = try #require(seen["rlimits"])
        let spec = fixture.spec.limits
        #expect(limits["AS"] == .array([.int(spec.addressSpaceBytes), .int(spec.addressSpaceBytes)]))
        #expect(limits["CPU"] == .array([.int(spec.cpuSeconds), .int(spec.cpuSeconds + 1)]))
        #expect(limits["FSIZE"] == .array([.int(spec.fileSizeBytes), .int(spec.fileSizeBytes)]))
        #expect(limits["NOFILE"] == .array([.int(spec.openFiles), .int(spec.openFiles)]))
        #expect(limits["CORE"] == .array([0, 0]))
        #expect(seen["noNewPrivs"] == "1")
        #expect(seen["seccomp"] == "2", "mode 2: a seccomp filter")
        #expect(try fixture.command("syscalls", ["names": ["ptrace", "bpf", "unshare", "mount"]])
                    == ["ptrace": .int(EPERM), "bpf": .int(EPERM), "unshare": .int(EPERM), "mount": .int(EPERM)])
        // Only the control channel and the config's copy are open: the harness closed its own source.
        #expect(try fixture.command("fds") == ["open": [3, 5]])
        // Its cgroups hold it (one process: no bubblewrap in between).
        #expect(try fixture.request("status")["processes"] == 1)

        if getuid() == 0 {
            let identity = try #require(fixture.spec.identity)
            #expect(seen["uid"]?.intValue == Int(identity.uid) && seen["gid"]?.intValue == Int(identity.gid))
            #expect(seen["groups"] == .array([]))
            // Its own uid is what keeps it from root's files, the store and the rendered config.
            #expect(try fixture.command("read", ["path": .string(try #require(fixture.spec.configFile))]) == ["ok": false, "errno": .int(EACCES)])
            #expect(try fixture.command("write", ["path": .string(store + "/new.py")]) == ["ok": false, "errno": .int(EACCES)])
            #expect(try fixture.command("write", ["path": .string(data + "/notes")])["ok"] == true)
        }

        try fixture.request("unload")
        let end = try fixture.waitForExit()
        #expect(end.exit?.reason == "Unloaded" && end.exit?.code == 0)
        #expect(fixture.log.contains("probe: goodbye from onUnload"))
        #expect(fixture.log.contains("started UNSANDBOXED plugin pid"))
        #expect(fixture.log.contains("UNSANDBOXED (sandbox: false in the desired state): namespaces: unsandboxed: no namespaces"))
        #expect(!fixture.log.contains("WEAKER ISOLATION"), "a waived limit is not a weaker host")
    }
}
