import Foundation

// kaipm's benchmark: times the real `kaipm` binary (release build) on generated repositories.
// Usage: kaipm-bench [--plugins N[,N...]|none] [--runs R] [--kaipm PATH] [--work DIR] [--sandboxes [--sandbox-plugins N]]

// The figures are of the reconcile itself: generated plugins are not started in sandboxes
// (`KAIPM_SANDBOXES=on` in the environment measures with them).
setenv("KAIPM_SANDBOXES", "off", 0)

var sizes = [100, 1_000]
var runs = 5
var work = FileManager.default.temporaryDirectory.appendingPathComponent("kaipm-bench").path
var kaipm = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("kaipm").path
var sandboxes = false
var sandboxPlugins = 100
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    switch flag {
    case "--plugins": sizes = (arguments.popFirst() ?? "").split(separator: ",").compactMap { Int($0) }
    case "--runs": runs = Int(arguments.popFirst() ?? "") ?? runs
    case "--kaipm": kaipm = arguments.popFirst() ?? kaipm
    case "--work": work = arguments.popFirst() ?? work
    case "--sandboxes": sandboxes = true
    case "--sandbox-plugins": sandboxPlugins = Int(arguments.popFirst() ?? "") ?? sandboxPlugins
    default:
        FileHandle.standardError.write(Data("usage: kaipm-bench [--plugins 100,1000,10000] [--runs 5] [--kaipm PATH] [--work DIR] [--sandboxes [--sandbox-plugins 100]]\n".utf8))
        exit(2)
    }
}

/// Runs a command and returns its wall time in milliseconds; fails loudly on a non-zero exit.
/// It spawns with posix_spawn and waits with waitpid: Foundation's Process adds tens of
/// milliseconds of its own (a monitoring thread, pipes), which would be charged to kaipm.
func timed(_ executable: String, _ args: [String], allowExit: Set<Int32> = [0]) throws -> Double {
    let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("kaipm-bench-stderr-\(getpid())").path
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, errorFile, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + args).map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    var pid: pid_t = 0
    let start = DispatchTime.now().uptimeNanoseconds
    let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
    guard spawned == 0 else { throw BenchError("cannot start \(executable): \(String(cString: strerror(spawned)))") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
    let exitCode = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    guard allowExit.contains(exitCode) else {
        let stderr = (try? String(contentsOfFile: errorFile, encoding: .utf8)) ?? ""
        throw BenchError("\(executable) \(args.joined(separator: " ")) exited \(exitCode): \(stderr)")
    }
    return elapsed
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
}

func pad(_ text: String, _ width: Int) -> String { text.padding(toLength: width, withPad: " ", startingAt: 0) }

struct Row {
    var plugins: Int
    var firstApply: Double
    var noop: Double
    var oneChange: Double
    var verifyFull: Double
    var sha256sum: Double
    var storeBytes: Int
}

var rows: [Row] = []
// An earlier run's files are moved aside now and deleted only after measuring: ext4 avoids
// reusing inodes freed in the last minutes, and a first apply right after deleting another
// 10,000-file tree measured the file system's allocator, not kaipm (see BenchRepo).
let previous = work + ".old-\(getpid())"
if FileManager.default.fileExists(atPath: work) { try? FileManager.default.moveItem(atPath: work, toPath: previous) }
// The work folder is marked as the top of a directory hierarchy (chattr +T, where the file
// system has it), so that ext4's Orlov allocator places each run's folders in block groups of
// their own, as a new host's /var/lib would be, rather than among inodes freed minutes ago.
try? FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
_ = try? timed("/usr/bin/chattr", ["+T", work], allowExit: [0, 1])
do {
    guard FileManager.default.isExecutableFile(atPath: kaipm) else { throw BenchError("no kaipm binary at \(kaipm); build it first") }
    for size in sizes {
        let repoPath = "\(work)/repo-\(size)"
        let root = "\(work)/root-\(size)"
        FileHandle.standardError.write(Data("generating \(size) plugins in \(repoPath)…\n".utf8))
        let repo = BenchRepo(path: repoPath, plugins: size)
        try repo.generate()
        let base = ["--repo", repoPath, "--root", root, "--host", "bench"]
        // A first apply happens on a host whose clone was written a while ago: flush the
        // generator's writes so that their writeback is not charged to kaipm.
        _ = try timed("/bin/sync", [])
        let first = try timed(kaipm, ["apply"] + base)
        // A host's no-op runs minutes after its last change, not while the kernel is still writing
        // the first apply's 10,000 files back to disk: flush them first so that is what is measured.
        _ = try timed("/bin/sync", [])
        var noops: [Double] = []
        for _ in 0..<runs { noops.append(try timed(kaipm, ["apply"] + base)) }
        var changes: [Double] = []
        for round in 1...runs {
            try repo.changeOnePlugin(round: round)
            changes.append(try timed(kaipm, ["apply"] + base))
        }
        var verifies: [Double] = []
        for _ in 0..<max(1, runs / 2) { verifies.append(try timed(kaipm, ["verify", "--full", "--root", root])) }
        // The hashing floor: sha256sum over the same store files (warm cache, like verify --full).
        let store = "\(root)/kos/plugins/store"
        let script = "cd '\(store)' && find . -path ./.index -prune -o -type f -print0 | xargs -0 sha256sum > /dev/null"
        var floors: [Double] = []
        for _ in 0..<max(1, runs / 2) { floors.append(try timed("/bin/sh", ["-c", script])) }
        let bytes = storeSize(store)
        rows.append(Row(plugins: size, firstApply: first, noop: median(noops), oneChange: median(changes),
                        verifyFull: median(verifies), sha256sum: median(floors), storeBytes: bytes))
    }
} catch {
    FileHandle.standardError.write(Data("kaipm-bench: \(error)\n".utf8))
    exit(1)
}

func storeSize(_ path: String) -> Int {
    guard let enumerator = FileManager.default.enumerator(atPath: path) else { return 0 }
    var total = 0
    while let item = enumerator.nextObject() as? String {
        if let attributes = try? FileManager.default.attributesOfItem(atPath: path + "/" + item),
           attributes[.type] as? FileAttributeType == .typeRegular, !item.hasPrefix(".index") {
            total += (attributes[.size] as? Int) ?? 0
        }
    }
    return total
}

if !rows.isEmpty {
print("kaipm benchmark (median of \(runs) runs, \(ProcessInfo.processInfo.processorCount) cores)")
print(pad("plugins", 9) + pad("store", 10) + pad("first apply", 13) + pad("no-op apply", 13) + pad("1-change apply", 16)
      + pad("verify --full", 24) + pad("sha256sum", 11) + "verify throughput / sha256sum's")
for row in rows {
    let mb = Double(row.storeBytes) / 1e6
    let ratio = row.sha256sum / max(row.verifyFull, 0.001) * 100
    print(pad("\(row.plugins)", 9) + pad(String(format: "%.0f MB", mb), 10) + pad(String(format: "%.0f ms", row.firstApply), 13)
          + pad(String(format: "%.1f ms", row.noop), 13) + pad(String(format: "%.1f ms", row.oneChange), 16)
          + pad(String(format: "%.0f ms (%.0f MB/s)", row.verifyFull, mb / (row.verifyFull / 1000)), 24)
          + pad(String(format: "%.0f ms", row.sha256sum), 11) + String(format: "%.0f%%", ratio))
}

}

// The sandboxes, after the reconcile rows: the real kaipm with KAIPM_SANDBOXES=on.
if sandboxes {
    do {
        let result = try SandboxBench(kaipm: kaipm, work: work, runs: runs, many: sandboxPlugins).run()
        SandboxBench.print(result, many: sandboxPlugins, runs: runs)
    } catch {
        FileHandle.standardError.write(Data("kaipm-bench: sandboxes: \(error)\n".utf8))
        exit(1)
    }
}

// Measured: now the previous run's files may go.
try? FileManager.default.removeItem(atPath: previous)
