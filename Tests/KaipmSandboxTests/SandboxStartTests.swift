import Foundation
import KaipmSandbox
import Testing

/// How a start reports its load, and the CPU quota around the load.
@Suite("Starting a sandbox", .serialized)
struct SandboxStartTests {
    @Test func untilLoadedReturnsOnceThePluginLoaded() throws {
        let fixture = try SandboxFixture("untilok")
        let handle = try SupervisorLauncher(executable: SandboxFixture.supervisor).start(fixture.spec, untilLoaded: true)
        defer { kill(handle.pid, SIGKILL) }
        #expect(handle.load == .loaded)
        // No waiting: the status file already says so.
        let status = try #require(try SupervisorStatus.read(fixture.layout))
        #expect(status.load?["ok"] == true)
        #expect(status.state == .running)
    }

    @Test func untilLoadedReportsAFailingOnLoad() throws {
        var files = ProbePlugin.files
        files["hooks/onLoad.py"] = "def on_load(ctx):\n    raise RuntimeError('no database configured')\n"
        let fixture = try SandboxFixture("untilfail", files: files)
        let handle = try SupervisorLauncher(executable: SandboxFixture.supervisor).start(fixture.spec, untilLoaded: true)
        #expect(handle.load == .failed(message: "onLoad raised RuntimeError: no database configured"))
        #expect(try fixture.waitForExit().exit?.reason == "LoadFailed")
    }

    @Test func untilLoadedReportsASandboxThatEndsWhileLoading() throws {
        var files = ProbePlugin.files
        files["hooks/onLoad.py"] = "import os\n\ndef on_load(ctx):\n    os._exit(7)\n"
        let fixture = try SandboxFixture("untilend", files: files)
        let handle = try SupervisorLauncher(executable: SandboxFixture.supervisor).start(fixture.spec, untilLoaded: true)
        // The harness's end fails the pending `load` first; either way the start says it did not load.
        let said: String
        switch handle.load {
        case let .failed(message)?: said = message
        case let .ended(_, message)?: said = message
        default: said = "loaded or nothing: \(String(describing: handle.load))"
        }
        #expect(said.contains("ended"), "\(said)")
        let exit = try fixture.waitForExit().exit
        #expect(exit?.reason == "LoadFailed", "\(String(describing: exit))")
    }

    @Test func untilLoadedTimesOutWhenTheLoadTakesLonger() throws {
        var files = ProbePlugin.files
        files["hooks/onLoad.py"] = "import time\n\ndef on_load(ctx):\n    time.sleep(60)\n"
        let fixture = try SandboxFixture("untilslow", files: files)
        #expect(throws: SandboxError.timedOut(plugin: fixture.pluginID, operation: "start", milliseconds: 400)) {
            try SupervisorLauncher(executable: SandboxFixture.supervisor).start(fixture.spec, timeoutMilliseconds: 400, untilLoaded: true)
        }
        let pid = try #require(try SupervisorStatus.read(fixture.layout)).supervisorPID
        kill(pid, SIGKILL)
    }

    /// A quarter-core plugin gets a whole core while Python starts and `onLoad` runs, then its own quota.
    @Test func theCPUQuotaIsRaisedOnlyWhileThePluginLoads() throws {
        var files = ProbePlugin.files
        // Loads slowly enough for the test to look at the quota in the middle of it.
        files["hooks/onLoad.py"] = "import time\n\ndef on_load(ctx):\n    time.sleep(1.5)\n"
        let fixture = try SandboxFixture("cpuboost", files: files)
        fixture.spec.resources.cpu = 0.2
        fixture.spec.resources.startupCPU = 1
        let handle = try fixture.start()
        #expect(handle.load == nil)
        let status = try #require(try SupervisorStatus.read(fixture.layout))
        guard let group = status.cgroups["cpu"] else {
            Issue.record("no cpu cgroup on this host: \(status.isolation.items)")
            return
        }
        let quotaFile = FileManager.default.fileExists(atPath: group + "/cpu.max") ? group + "/cpu.max" : group + "/cpu.cfs_quota_us"
        func quota() throws -> Int? {
            try String(contentsOfFile: quotaFile, encoding: .utf8).split(separator: " ").first.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        #expect(status.load == nil, "still loading")
        #expect(try quota() == 100_000)
        #expect(status.isolation.items.first { $0.limit == "cpu" }?.detail.contains("until loaded, then 20000") == true)

        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, (try SupervisorStatus.read(fixture.layout))?.load == nil { usleep(20_000) }
        #expect(try SupervisorStatus.read(fixture.layout)?.load?["ok"] == true)
        #expect(try quota() == 20_000)
        // And the lowered quota holds: a spin gets about a fifth of the wall time.
        let result = try fixture.command("spin", ["seconds": .double(0.6)])
        let cpu = try #require(result["cpu"]?.doubleValue)
        let wall = try #require(result["wall"]?.doubleValue)
        #expect(cpu < wall * 0.35, "cpu \(cpu) s in \(wall) s")
    }

    @Test func withoutAStartupQuotaTheQuotaHoldsFromTheStart() throws {
        let fixture = try SandboxFixture("cpuflat")
        fixture.spec.resources.cpu = 0.2
        let handle = try SupervisorLauncher(executable: SandboxFixture.supervisor).start(fixture.spec, untilLoaded: true)
        defer { kill(handle.pid, SIGKILL) }
        let status = try #require(try SupervisorStatus.read(fixture.layout))
        let detail = try #require(status.isolation.items.first { $0.limit == "cpu" }?.detail)
        #expect(detail.contains("20000") && !detail.contains("until loaded"), "\(detail)")
    }

    @Test func theStartupQuotaRoundTripsThroughTheSpecFile() throws {
        var resources = SandboxResources(memoryBytes: 64 << 20, cpu: 0.25, pids: 16, startupCPU: 1)
        var spec = SandboxSpec(pluginID: "p", root: "/r", storeEntry: "/r/kos/plugins/store/x", dataDir: "/r/kos/data/p",
                               configFile: nil, entryPoints: EntryPoints(main: "main.py", hooks: [:]), resources: resources)
        #expect(try SandboxSpec(json: spec.json).resources == resources)
        resources.startupCPU = nil
        spec.resources = resources
        #expect(try SandboxSpec(json: spec.json).resources == resources)
        #expect(spec.json["resources"]?["startupCpu"] == nil)
    }

    /// `-S`: the host's site-packages and sitecustomize do not reach a plugin, only the standard
    /// library and the plugin's own (hashed) files.
    @Test func thePluginImportsOnlyTheStandardLibraryAndItsOwnFiles() throws {
        let fixture = try SandboxFixture("imports")
        try fixture.start()
        let result = try fixture.command("imports")
        let path = try #require(result["path"]?.arrayValue).compactMap(\.stringValue)
        #expect(path.first == "/plugin", "\(path)")
        #expect(!path.contains { $0.contains("-packages") }, "\(path)")
        #expect(result["site"] == false && result["sitecustomize"] == false)
    }
}
