import Foundation
import KaipmCore
import KaipmEngine
import KaipmSandbox
import Testing

/// Preloaded core plugins with `sandbox: false` (issue #3), driven by the reconciler on real
/// supervisors: they run on the host, without bubblewrap, but under their own uid and limits.
@Suite("Reconcile unsandboxed core plugins", .serialized)
struct UnsandboxedReconcileTests {
    static let id = "core-probe"

    /// A repository with the core-probe plugin and its entry, and a reconciler with sandboxes on.
    final class Host {
        let repo: TestRepo
        let runtime: SandboxRuntime

        /// - preloaded: whether kos.config.yaml preloads the plugin.
        /// - declared: whether its plugin.json says `"sandbox": false` too.
        init(preloaded: Bool = true, declared: Bool = true, sandbox: Bool = false) throws {
            runtime = try #require(SandboxReconcileTests.runtime, "no kaipm-supervisor beside the tests or no /usr/bin/bwrap")
            repo = try TestRepo()
            try repo.write("desired-state/kos.config.yaml", TestRepo.kosConfig(dirs: repo.dirs, preload: preloaded ? [UnsandboxedReconcileTests.id] : []))
            try Self.writePlugin(repo, declared: declared)
            try writeEntry(sandbox: sandbox)
            try repo.commit("core-probe")
        }

        deinit {
            let layout = SandboxLayout(root: repo.hostRoot, pluginID: UnsandboxedReconcileTests.id)
            if let status = try? SupervisorStatus.read(layout), SupervisorStatus.supervisorAlive(layout) {
                kill(status.supervisorPID, SIGKILL)
                _ = waitUntil(timeout: 3) { !SupervisorStatus.supervisorAlive(layout) }
            }
        }

        func writeEntry(sandbox: Bool) throws {
            try repo.writeEntry(UnsandboxedReconcileTests.id, version: "1.0.0", extra: sandbox ? "" : "sandbox: false\n")
        }

        static func writePlugin(_ repo: TestRepo, declared: Bool) throws {
            let dir = "examples/plugins/\(UnsandboxedReconcileTests.id)"
            try repo.write(dir + "/plugin.json", """
                {"id": "core-probe", "name": "Core probe", "version": "1.0.0", "author": "kaipm tests <t@kaipm.invalid>",
                 "license": "MIT", "sandbox": \(!declared)}

                """)
            try repo.write(dir + "/manifest.yaml", """
                apiVersion: kaipm/v1
                kind: PluginManifest
                capabilities: []
                permissions: {}
                entryPoints:
                  main: main.py
                  hooks:
                    onCommand: hooks/onCommand.py
                commands: [process]

                """)
            try repo.write(dir + "/main.py", "\"\"\"core-probe: reports what its process is and may do.\"\"\"\n")
            try repo.write(dir + "/hooks/onCommand.py", #"""
                import os
                import resource


                def on_command(ctx, command, args):
                    if command != "process":
                        raise ValueError(f"unknown command {command!r}")
                    limits = {name: list(resource.getrlimit(getattr(resource, "RLIMIT_" + name)))
                              for name in ("AS", "FSIZE", "NOFILE", "CORE")}
                    pids = sorted(int(n) for n in os.listdir("/proc") if n.isdigit()) if os.path.isdir("/proc") else None
                    return {"uid": os.getuid(), "pid": os.getpid(), "pluginDir": ctx.plugin_dir, "dataDir": ctx.data_dir,
                            "rlimits": limits, "pids": pids, "level": ctx.config.get("level")}

                """#)
            try repo.write(dir + "/ui/config.schema.json", """
                {"type": "object", "properties": {"level": {"type": "string", "default": "info"}}}

                """)
        }

        var reconciler: Reconciler {
            var options = repo.reconciler(sandboxes: runtime).options
            options.backoff = CrashBackoff(base: 0, cap: 300)
            return Reconciler(options: options)
        }
        var layout: SandboxLayout { SandboxLayout(root: repo.hostRoot, pluginID: UnsandboxedReconcileTests.id) }

        func apply() throws -> ApplyReport {
            let report = try reconciler.apply()
            #expect(report.failures.isEmpty, "\(report.failures)")
            return report
        }

        func process() throws -> JSON {
            try ControlClient(layout: layout).request("command", [JSON.Member("command", .string("process")), JSON.Member("args", .object([]))])
        }

        func status(_ format: String = "text") throws -> String {
            let result = try repo.kaipm(["status", "--root", repo.hostRoot, "--format", format], env: ["KAIPM_SANDBOXES": "on"], plain: true)
            #expect(result.status == 0, "\(result)")
            return result.stdout
        }
    }

    @Test func aPreloadedCorePluginRunsUnsandboxedWithItsOwnUidAndLimits() throws {
        let host = try Host()
        let report = try host.apply()
        #expect(report.plan.steps == ["install core-probe", "configure core-probe", "activate core-probe", "start core-probe"])
        #expect(try ControlClient(layout: host.layout).request("health")["loaded"] == .bool(true))
        #expect(try host.repo.registry().conditions()[Self.id]?.first { $0.type == "Ready" }?.reason == "Running")

        let seen = try host.process()
        // The host's /proc: not in a pid namespace (the test's own pid is there).
        let pids = try #require(seen["pids"]?.arrayValue).compactMap(\.intValue)
        #expect(pids.contains(Int(getpid())))
        // Loaded from its store entry and given its data folder, at their real paths.
        let entry = try #require(try host.repo.rows()[Self.id]?.path)
        #expect(seen["pluginDir"]?.stringValue == Posix.canonicalPath(entry))
        #expect(seen["dataDir"]?.stringValue == Posix.canonicalPath(host.repo.layout.data(Self.id)))
        #expect(seen["level"] == .string("info"))
        // Its limits: the quota's address space (4 × 256 MiB), 64 MiB files, 256 descriptors, no core.
        let limits = try #require(seen["rlimits"])
        #expect(limits["AS"] == .array([.int(1 << 30), .int(1 << 30)]))
        #expect(limits["FSIZE"] == .array([.int(64 << 20), .int(64 << 20)]))
        #expect(limits["NOFILE"] == .array([.int(256), .int(256)]))
        #expect(limits["CORE"] == .array([.int(0), .int(0)]))
        if getuid() == 0 {
            let uid = try #require(try host.repo.registry().sandboxRecords()[Self.id]?.uid)
            #expect(uid >= SandboxIdentity.firstUID)
            #expect(seen["uid"]?.intValue == Int(uid))
        }
        let status = try #require(try SupervisorStatus.read(host.layout))
        #expect(status.isolation.isUnsandboxed)
        #expect(status.isolation.notEnforced.isEmpty)

        // kaipm status says so, in text and JSON.
        let text = try host.status()
        let row = try #require(text.split(separator: "\n").first { $0.hasPrefix(Self.id + " ") })
        #expect(row.contains(" running ") && row.hasSuffix("unsandboxed"), "\(text)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(try host.status("json").utf8)) as? [String: Any])
        let plugin = try #require((json["plugins"] as? [[String: Any]])?.first { $0["id"] as? String == Self.id })
        #expect(plugin["isolation"] as? String == "unsandboxed")
        #expect(plugin["sandbox"] as? String == "running")

        // Nothing changed: a no-op that leaves it running.
        #expect(try host.apply().outcome == "no-op")
        #expect(try SupervisorStatus.read(host.layout)?.supervisorPID == status.supervisorPID)
    }

    @Test func flippingSandboxRestartsItWithTheOtherIsolation() throws {
        let host = try Host()
        _ = try host.apply()
        #expect(try host.process()["pids"] != .null)

        try host.writeEntry(sandbox: true)
        try host.repo.commit("sandbox core-probe")
        let plan = try host.reconciler.plan()
        #expect(plan.steps == ["restart core-probe"])
        #expect(plan.action(.restart, Self.id)?.reason == "isolation changed")
        _ = try host.apply()
        // In bubblewrap now: no /proc, and the plugin at /plugin.
        let sandboxed = try host.process()
        #expect(sandboxed["pids"] == .null)
        #expect(sandboxed["pluginDir"] == .string("/plugin"))
        #expect(try SupervisorStatus.read(host.layout)?.isolation.isUnsandboxed == false)
        let text = try host.status()
        #expect(text.contains(" running ") && !text.contains(", unsandboxed"), "\(text)")
        #expect(try host.reconciler.plan().actions.isEmpty)

        try host.writeEntry(sandbox: false)
        try host.repo.commit("unsandbox core-probe")
        let back = try host.apply()
        #expect(back.plan.steps == ["restart core-probe"])
        #expect(back.plan.action(.restart, Self.id)?.reason == "isolation changed")
        #expect(try host.process()["pids"] != .null)
        #expect(try host.repo.registry().sandboxRecords()[Self.id]?.restarts == 2)
    }

    @Test func sandboxFalseOnAPluginThatIsNotPreloadedIsRefusedAtPlanTime() throws {
        let host = try Host(preloaded: false)
        let plan = try host.reconciler.plan()
        #expect(plan.actions.isEmpty, "\(plan.steps)")
        let problems = try #require(plan.blocked.first { $0.plugin == Self.id }).problems
        #expect(problems == ["desired-state/plugins/core-probe.yaml: plugin 'core-probe': 'sandbox: false' is allowed only for core plugins "
                             + "preloaded in kos.config.yaml (remove 'sandbox: false' from desired-state/plugins/core-probe.yaml, "
                             + "or add 'core-probe' to preload in kos.config.yaml)"], "\(problems)")
        let report = try host.reconciler.apply()
        #expect(report.plan.actions.isEmpty)
        #expect(!SupervisorStatus.supervisorAlive(host.layout))
    }

    @Test func sandboxFalseNeedsThePluginsOwnPluginJSONToAgree() throws {
        let host = try Host(declared: false)
        let plan = try host.reconciler.plan()
        #expect(plan.actions.isEmpty, "\(plan.steps)")
        let problems = try #require(plan.blocked.first { $0.plugin == Self.id }).problems
        #expect(problems.count == 1)
        #expect(problems.first?.contains("'sandbox: false' needs the plugin to say so too, but examples/plugins/core-probe/plugin.json has \"sandbox\": true") == true,
                "\(problems)")
        #expect(problems.first?.contains("set \"sandbox\": false in the plugin's plugin.json, or remove 'sandbox: false' from desired-state/plugins/core-probe.yaml") == true,
                "\(problems)")
    }
}
