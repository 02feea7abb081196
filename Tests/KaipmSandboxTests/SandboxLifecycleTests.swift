import Foundation
import KaipmSandbox
import Testing

/// Supervisors started like kaipm will start them, each with its own bubblewrap sandbox.
@Suite("Sandbox lifecycle")
struct SandboxLifecycleTests {
    @Test func commandRoundTripsThroughTheControlSocket() throws {
        let fixture = try SandboxFixture("roundtrip")
        try fixture.start()
        let result = try fixture.command("echo", ["name": .string("Ada"), "n": .int(3)])
        #expect(result["args"] == .object([JSON.Member("n", .int(3)), JSON.Member("name", .string("Ada"))]))
        #expect(result["config"] == .object([JSON.Member("greeting", .string("Hello"))]))
        #expect(result["uid"]?.intValue == Int(fixture.spec.identity!.uid))
        #expect(result["cwd"]?.stringValue == "/data")
    }
}

extension SandboxLifecycleTests {
    @Test func aFailingCommandAnswersWithTheErrorAndTheSandboxGoesOn() throws {
        let fixture = try SandboxFixture("cmdfail")
        try fixture.start()
        #expect(throws: SandboxError.requestFailed(plugin: fixture.pluginID, code: "CommandFailed",
                                                   message: "onCommand raised ValueError: asked to fail")) {
            try fixture.command("fail")
        }
        #expect(try fixture.command("commands") == ["commands": 2])
        #expect(fixture.log.contains("ValueError: asked to fail"))
    }

    @Test func killingTheSupervisorKillsTheSandbox() throws {
        let fixture = try SandboxFixture("orphan")
        let handle = try fixture.start()
        #expect(try fixture.request("health")["loaded"] == .bool(true))
        let status = try #require(try SupervisorStatus.read(fixture.layout))
        let sandbox = try #require(status.sandboxPID)
        let group = try #require(status.cgroups["pids"])
        let processes = try String(contentsOfFile: group + "/cgroup.procs", encoding: .utf8).split(separator: "\n").compactMap { Int32($0) }
        // bubblewrap outside, bubblewrap as the sandbox's init, Python.
        #expect(processes.count == 3)
        #expect(processes.contains(sandbox))

        kill(handle.pid, SIGKILL)
        let deadline = Date().addingTimeInterval(3)
        while Date() < deadline && !processes.allSatisfy(processIsGone) { usleep(5000) }
        #expect(processes.allSatisfy(processIsGone), "still there: \(processes.filter { !processIsGone($0) })")
        #expect(!SupervisorStatus.supervisorAlive(fixture.layout))

        // The next start heals what the dead supervisor left (its socket, its cgroups).
        try fixture.start()
        #expect(try fixture.request("health")["loaded"] == .bool(true))
    }

    @Test func dataPersistsAcrossRuns() throws {
        let fixture = try SandboxFixture("persist")
        try fixture.start()
        #expect(try fixture.command("write", ["path": "/data/notes.txt"])["ok"] == true)
        #expect(try fixture.request("unload") == ["unloaded": true])
        let first = try fixture.waitForExit()
        #expect(first.exit?.reason == "Unloaded")
        #expect(first.exit?.code == 0)

        try fixture.start()
        #expect(try fixture.command("write", ["path": "/data/notes.txt"])["ok"] == true)
        let file = fixture.spec.dataDir + "/notes.txt"
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "xx")
        let owner = try FileManager.default.attributesOfItem(atPath: file)[.ownerAccountID] as? Int
        #expect(owner == Int(fixture.spec.identity!.uid))
    }

    @Test func consoleOutputReachesTheLog() throws {
        let fixture = try SandboxFixture("console")
        try fixture.start()
        try fixture.command("print", ["text": "probe: a line from a command"])
        try fixture.request("unload")
        _ = try fixture.waitForExit()
        let lines = fixture.log.split(separator: "\n").map(String.init)
        #expect(lines.contains("probe: hello from onLoad"))
        #expect(lines.contains("[\(fixture.pluginID)] loaded with greeting 'Hello'"))
        #expect(lines.contains("probe: a line from a command"))
        #expect(lines.contains("probe: goodbye from onUnload"))
        #expect(lines.contains { $0.hasPrefix("kaipm-supervisor ") && $0.hasSuffix("sandbox ended: Unloaded: unloaded on request") })
    }

    @Test func theLogIsRotatedAtItsSizeCap() throws {
        let fixture = try SandboxFixture("rotate")
        fixture.spec.log = LogPolicy(maxBytes: 8192, keep: 2)
        try fixture.start()
        try fixture.command("print", ["text": .string(String(repeating: "z", count: 99)), "times": 300])
        try fixture.request("unload")
        _ = try fixture.waitForExit()
        let sizes = try [fixture.layout.logFile, fixture.layout.logFile + ".1", fixture.layout.logFile + ".2"].map {
            try #require(FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int)
        }
        #expect(sizes.allSatisfy { $0 <= 8192 }, "sizes \(sizes)")
        #expect(!FileManager.default.fileExists(atPath: fixture.layout.logFile + ".3"))
        #expect(fixture.log.contains("sandbox ended: Unloaded"))
    }

    @Test func aFailingOnLoadStopsTheSandboxWithTheReason() throws {
        var files = ProbePlugin.files
        files["hooks/onLoad.py"] = "def on_load(ctx):\n    raise RuntimeError('no database configured')\n"
        let fixture = try SandboxFixture("loadfail", files: files)
        try fixture.start()
        let status = try fixture.waitForExit()
        #expect(status.exit?.reason == "LoadFailed")
        #expect(status.exit?.message == "onLoad raised RuntimeError: no database configured")
        #expect(status.load?["ok"] == false)
        #expect(status.exit?.logTail?.contains("RuntimeError: no database configured") == true)
    }

    @Test func anOnLoadThatNeverFinishesIsStoppedAtTheLoadTimeout() throws {
        var files = ProbePlugin.files
        files["hooks/onLoad.py"] = "import time\n\ndef on_load(ctx):\n    time.sleep(60)\n"
        let fixture = try SandboxFixture("loadslow", files: files)
        fixture.spec.timeouts.loadMilliseconds = 300
        let begin = Date()
        try fixture.start()
        let status = try fixture.waitForExit()
        #expect(status.exit?.reason == "LoadTimeout")
        #expect(status.exit?.message == "onLoad did not finish within 300 ms")
        #expect(Date().timeIntervalSince(begin) < 3)
    }

    @Test func aPluginThatExitsIsRecordedAsCrashedWithItsStatus() throws {
        var files = ProbePlugin.files
        files["hooks/onCommand.py"] = "import os\n\ndef on_command(ctx, command, args):\n    os._exit(3)\n"
        let fixture = try SandboxFixture("crash", files: files)
        try fixture.start()
        #expect {
            try fixture.command("anything")
        } throws: { error in
            (error as? SandboxError)?.code == "SandboxExited"
        }
        let status = try fixture.waitForExit()
        #expect(status.exit?.reason == "Crashed")
        #expect(status.exit?.code == 3)
    }

    @Test func sigtermToTheSupervisorUnloadsThePlugin() throws {
        let fixture = try SandboxFixture("sigterm")
        let handle = try fixture.start()
        #expect(try fixture.request("health")["loaded"] == true)
        kill(handle.pid, SIGTERM)
        let status = try fixture.waitForExit()
        #expect(status.exit?.reason == "Stopped")
        #expect(status.exit?.code == 0)
        #expect(fixture.log.contains("probe: goodbye from onUnload"))
        #expect(!FileManager.default.fileExists(atPath: fixture.layout.socket))
        #expect(status.cgroups.values.allSatisfy { !FileManager.default.fileExists(atPath: $0) })
    }

    @Test func aSecondSupervisorForTheSamePluginIsRefused() throws {
        let fixture = try SandboxFixture("twice")
        try fixture.start()
        #expect(throws: SandboxError.launchFailed(plugin: fixture.pluginID, reason: "another supervisor already runs this plugin (it holds \(fixture.layout.lockFile))")) {
            try fixture.start()
        }
        #expect(try fixture.request("health")["loaded"] == true)
        #expect(try SupervisorStatus.read(fixture.layout)?.state == .running)
    }

    @Test func statusReportsIsolationAndLiveUsage() throws {
        let fixture = try SandboxFixture("status")
        try fixture.start()
        #expect(try fixture.request("health")["loaded"] == true)
        let status = try fixture.request("status")
        #expect(status["state"] == "running")
        #expect(status["processes"] == 3)
        let memory = try #require(status["memoryInUseBytes"]?.uint64Value)
        #expect(memory > 1 << 20 && memory < 128 << 20)
        print("idle sandbox (bubblewrap, Python, the probe plugin): \(memory >> 10) KiB charged to its memory cgroup")
        let report = IsolationReport(json: status["isolation"] ?? .null)
        #expect(report.notEnforced.isEmpty)
        #expect(report.items.map(\.limit) == ["namespaces", "network", "seccomp", "identity", "memory", "cpu", "pids", "rlimits"])
    }

    /// The figures the report quotes: start to a healthy answer, and the supervisor's RSS.
    ///
    /// The 8 MiB budget is for the supervisor as shipped, with the Swift runtime linked in
    /// (`swift build -c release --static-swift-stdlib`; run the tests with `KAIPM_SUPERVISOR`
    /// pointing at it). A debug build maps the shared Swift libraries, about 2.5 MiB more.
    @Test func startsToHealthyQuicklyAndTheSupervisorStaysSmall() throws {
        var times = [Double]()
        var sizes = [Int]()
        var sharedRuntime = false
        for round in 0..<5 {
            let fixture = try SandboxFixture("speed\(round)")
            let begin = Date()
            let handle = try fixture.start()
            #expect(try fixture.request("health")["loaded"] == true)
            times.append(Date().timeIntervalSince(begin) * 1000)
            let status = try String(contentsOfFile: "/proc/\(handle.pid)/status", encoding: .utf8)
            let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
            sizes.append(try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])))
            sharedRuntime = Posix.readText("/proc/\(handle.pid)/maps")?.contains("libswiftCore.so") == true
        }
        let median = times.sorted()[times.count / 2]
        print("sandbox start to healthy: median \(Int(median)) ms of \(times.map { Int($0) }); "
              + "supervisor VmRSS \(sizes) KiB (\(sharedRuntime ? "shared" : "static") Swift runtime)")
        #expect(median < 1000)
        let budget = sharedRuntime ? 12 * 1024 : 8 * 1024
        #expect(sizes.allSatisfy { $0 < budget }, "VmRSS \(sizes) KiB against \(budget) KiB")
    }
}
