import Foundation

/// The sandbox benchmark (`--sandboxes`): the real `kaipm` with `KAIPM_SANDBOXES=on`, starting
/// bench plugins in bubblewrap sandboxes under their supervisors.
///
/// - one plugin: `kaipm apply` activating one inactive plugin, timed to its exit (apply returns
///   once the plugin answered `onLoad` and `health`: Ready), median over `runs`; between runs it
///   is deactivated again (stopped), untimed;
/// - 100 plugins: one `kaipm apply` activating all of them;
/// - memory per idle sandbox, over those 100: the supervisor's VmRSS, and the sandbox's
///   (bubblewrap and python, every process below the supervisor) VmRSS and Pss summed;
/// - a no-op apply with those 100 running (the observation reads each one's status and lock).
/// Every supervisor under the bench's roots is sent SIGTERM at the end.
struct SandboxBench {
    let kaipm: String
    let work: String
    let runs: Int
    let many: Int

    struct Result {
        var oneReady: [Double] = []
        var manyReady: Double = 0
        var supervisorRSS: Double = 0
        var sandboxRSS: Double = 0
        var sandboxPSS: Double = 0
        var measured = 0
        /// A no-op apply with the `many` plugins running: the observation reads every sandbox's status.
        var noop: [Double] = []
    }

    func run() throws -> Result {
        setenv("KAIPM_SANDBOXES", "on", 1)
        defer { setenv("KAIPM_SANDBOXES", "off", 1) }
        var result = Result()
        defer { stopSupervisors(under: work) }

        // (a) One plugin, activated from inactive.
        let oneRepo = BenchRepo(path: "\(work)/sandbox-repo-1", plugins: 1)
        oneRepo.active = false
        try oneRepo.generate()
        let oneRoot = "\(work)/sandbox-root-1"
        let one = ["--repo", oneRepo.path, "--root", oneRoot, "--host", "bench"]
        _ = try timed(kaipm, ["apply"] + one)
        for _ in 0..<runs {
            try oneRepo.setActive(true)
            result.oneReady.append(try timed(kaipm, ["apply"] + one))
            guard supervisors(under: oneRoot).count == 1 else { throw BenchError("the plugin is not running after apply") }
            try oneRepo.setActive(false)
            _ = try timed(kaipm, ["apply"] + one)
        }
        stopSupervisors(under: oneRoot)

        // (b) `many` plugins activated by one apply.
        let manyRepo = BenchRepo(path: "\(work)/sandbox-repo-\(many)", plugins: many)
        manyRepo.active = false
        try manyRepo.generate()
        let manyRoot = "\(work)/sandbox-root-\(many)"
        let manyArgs = ["--repo", manyRepo.path, "--root", manyRoot, "--host", "bench"]
        _ = try timed(kaipm, ["apply"] + manyArgs)
        _ = try timed("/bin/sync", [])
        try manyRepo.setActive(true)
        result.manyReady = try timed(kaipm, ["apply"] + manyArgs)
        let running = supervisors(under: manyRoot)
        guard running.count == many else { throw BenchError("\(running.count) of \(many) plugins are running after apply") }

        // (c) Memory of the idle sandboxes.
        sleep(2)
        let parents = parentMap()
        var supervisorRSS: [Double] = [], sandboxRSS: [Double] = [], sandboxPSS: [Double] = []
        for pid in running {
            supervisorRSS.append(Double(statusField(pid, "VmRSS:") ?? 0))
            let below = descendants(of: pid, parents: parents)
            sandboxRSS.append(Double(below.compactMap { statusField($0, "VmRSS:") }.reduce(0, +)))
            sandboxPSS.append(Double(below.compactMap { pss($0) }.reduce(0, +)))
        }
        result.supervisorRSS = median(supervisorRSS)
        result.sandboxRSS = median(sandboxRSS)
        result.sandboxPSS = median(sandboxPSS)
        result.measured = running.count

        // (d) A no-op apply over the running sandboxes.
        for _ in 0..<runs { result.noop.append(try timed(kaipm, ["apply"] + manyArgs)) }
        guard supervisors(under: manyRoot).count == many else { throw BenchError("a no-op apply changed the running sandboxes") }
        return result
    }

    static func print(_ result: Result, many: Int, runs: Int) {
        Swift.print("\nkaipm sandbox benchmark (KAIPM_SANDBOXES=on, bubblewrap, \(ProcessInfo.processInfo.processorCount) cores)")
        Swift.print(pad("measure", 46) + pad("result", 22) + "target")
        Swift.print(pad("1 plugin: apply to Ready (median of \(runs))", 46)
                    + pad(String(format: "%.0f ms", median(result.oneReady)), 22) + "< 150 ms")
        Swift.print(pad("\(many) plugins: one apply to all Ready", 46) + pad(String(format: "%.2f s", result.manyReady / 1000), 22) + "< 5 s")
        Swift.print(pad("\(many) running: no-op apply (median of \(runs))", 46)
                    + pad(String(format: "%.0f ms", median(result.noop)), 22) + "-")
        Swift.print(pad("supervisor VmRSS (median of \(result.measured))", 46)
                    + pad(String(format: "%.1f MiB", result.supervisorRSS / 1024), 22) + "< 8 MiB")
        Swift.print(pad("sandbox (bwrap + python) VmRSS / Pss (median)", 46)
                    + pad(String(format: "%.1f / %.1f MiB", result.sandboxRSS / 1024, result.sandboxPSS / 1024), 22) + "-")
    }

    // MARK: /proc

    /// The pids of `kaipm-supervisor` processes whose spec lies under `root`.
    func supervisors(under root: String) -> [pid_t] {
        procPids().filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let argv = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            guard let first = argv.first, first.hasSuffix("kaipm-supervisor") else { return false }
            return argv.contains { $0.hasPrefix(root + "/") }
        }
    }

    /// SIGTERM to every supervisor under `root` (each unloads and stops its sandbox), SIGKILL after 20 s.
    func stopSupervisors(under root: String) {
        let pids = supervisors(under: root)
        for pid in pids { kill(pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, pids.contains(where: { kill($0, 0) == 0 && !isZombie($0) }) { usleep(50_000) }
        for pid in pids where kill(pid, 0) == 0 && !isZombie(pid) { kill(pid, SIGKILL) }
    }

    func isZombie(_ pid: pid_t) -> Bool { procStat(pid)?.state == "Z" }

    func procPids() -> [pid_t] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { pid_t($0) }
    }

    func procStat(_ pid: pid_t) -> (state: String, parent: pid_t)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 1, let parent = pid_t(fields[1]) else { return nil }
        return (String(fields[0]), parent)
    }

    func parentMap() -> [pid_t: pid_t] {
        var map: [pid_t: pid_t] = [:]
        for pid in procPids() { if let parent = procStat(pid)?.parent { map[pid] = parent } }
        return map
    }

    func descendants(of root: pid_t, parents: [pid_t: pid_t]) -> [pid_t] {
        var children: [pid_t: [pid_t]] = [:]
        for (pid, parent) in parents { children[parent, default: []].append(pid) }
        var found: [pid_t] = [], queue = children[root] ?? []
        while let pid = queue.popLast() {
            found.append(pid)
            queue += children[pid] ?? []
        }
        return found
    }

    /// A `kB` field of /proc/PID/status.
    func statusField(_ pid: pid_t, _ name: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        return kilobytes(text, name)
    }

    func pss(_ pid: pid_t) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/smaps_rollup", encoding: .utf8) else { return nil }
        return kilobytes(text, "Pss:")
    }

    func kilobytes(_ text: String, _ name: String) -> Int? {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name) }) else { return nil }
        return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
    }
}
