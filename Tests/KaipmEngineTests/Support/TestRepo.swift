import Foundation
#if canImport(Glibc)
import Glibc
#endif
import KaipmCore
import KaipmEngine
import KaipmRegistry
import Testing

/// Paths of the package the tests run from (found from this file's path, so they work from any
/// working directory).
enum PackagePaths {
    /// The package root: three folders above `Tests/KaipmEngineTests/Support/`.
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()
    static var examples: String { root + "/examples/plugins" }
    static var desiredState: String { root + "/desired-state" }
}

/// Something a helper could not do, with the command's output.
struct SupportError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// What a child process did.
struct CommandResult: Sendable, CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String
    /// Whether it was killed by a signal (then `status` is the signal number).
    var signaled: Bool = false
    var output: String { stdout + stderr }
    var description: String { "exit \(status)\(signaled ? " (signal)" : "")\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
}

/// Deletes a folder even when parts of it are read-only (store entries are 0555/0444).
func forceRemove(_ path: String) {
    let fm = FileManager.default
    var isDirectory: ObjCBool = false
    guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else { return }
    if isDirectory.boolValue {
        chmod(path, 0o755)
        if let enumerator = fm.enumerator(atPath: path) {
            while let relative = enumerator.nextObject() as? String {
                let full = path + "/" + relative
                var st = stat()
                if lstat(full, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
                    chmod(full, 0o755)
                }
            }
        }
    }
    try? fm.removeItem(atPath: path)
}

/// A temporary folder removed when the value goes away.
final class TempDir: @unchecked Sendable {
    let path: String

    init(_ label: String = "kaipm-engine-tests") throws {
        path = FileManager.default.temporaryDirectory.path + "/\(label)-\(UUID().uuidString.prefix(12))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { forceRemove(path) }
}

/// Child processes: run to completion (output to files, so no pipe can fill and block) or start
/// in the background.
enum Shell {
    /// Runs `executable args` and waits. `env` is added to the inherited environment.
    static func run(_ executable: String, _ args: [String], cwd: String? = nil, env: [String: String] = [:],
                    scratch: String) throws -> CommandResult {
        let child = try start(executable, args, cwd: cwd, env: env, scratch: scratch)
        return child.wait()
    }

    static func start(_ executable: String, _ args: [String], cwd: String? = nil, env: [String: String] = [:],
                      scratch: String) throws -> Child {
        let token = UUID().uuidString.prefix(8)
        let out = scratch + "/.out-\(token)"
        let err = scratch + "/.err-\(token)"
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = args
        if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        environment.removeValue(forKey: "KAIPM_ROOT")
        environment.removeValue(forKey: "KAIPM_TEST_ACTION_DELAY_MS")
        // The tests of the registry-only behaviour run without sandboxes; the sandbox tests ask for them.
        environment["KAIPM_SANDBOXES"] = "off"
        for (key, value) in env { environment[key] = value }
        process.environment = environment
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return Child(process: process, stdoutPath: out, stderrPath: err)
    }

    /// A started child process.
    final class Child: @unchecked Sendable {
        let process: Process
        let stdoutPath: String
        let stderrPath: String

        init(process: Process, stdoutPath: String, stderrPath: String) {
            self.process = process
            self.stdoutPath = stdoutPath
            self.stderrPath = stderrPath
        }

        var pid: Int32 { process.processIdentifier }
        var isRunning: Bool { process.isRunning }

        func kill(_ signal: Int32 = SIGKILL) { Glibc.kill(process.processIdentifier, signal) }

        func wait() -> CommandResult {
            process.waitUntilExit()
            let out = (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? ""
            let err = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(atPath: stdoutPath)
            try? FileManager.default.removeItem(atPath: stderrPath)
            return CommandResult(status: process.terminationStatus, stdout: out, stderr: err,
                                 signaled: process.terminationReason == .uncaughtSignal)
        }
    }
}

/// The `kaipm` executable built next to the test bundle (`swift build --build-tests` builds both
/// into `<scratch>/debug/`). `KAIPM_BINARY` overrides it.
enum KaipmBinary {
    static let path: String? = {
        let fm = FileManager.default
        if let explicit = ProcessInfo.processInfo.environment["KAIPM_BINARY"], fm.isExecutableFile(atPath: explicit) {
            return explicit
        }
        var starts: [String] = [CommandLine.arguments.first ?? "", Bundle.main.bundlePath, Bundle.main.executablePath ?? ""]
        starts += Bundle.allBundles.map(\.bundlePath)
        for start in starts where !start.isEmpty {
            var dir = URL(fileURLWithPath: start).standardizedFileURL
            // Walk up from the test bundle (…/debug/kaipmPackageTests.xctest[/…]) to the folder holding kaipm.
            for _ in 0..<5 {
                let candidate = dir.appendingPathComponent("kaipm").path
                var isDirectory: ObjCBool = false
                if fm.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue,
                   fm.isExecutableFile(atPath: candidate) {
                    return candidate
                }
                dir.deleteLastPathComponent()
            }
        }
        return nil
    }()

    /// The path, or a test failure that says how to get one.
    static func require() throws -> String {
        guard let path else {
            throw SupportError("""
                the kaipm executable was not found next to the test bundle (\(CommandLine.arguments.first ?? "?")); \
                build it with 'swift build --scratch-path <scratch> --build-tests', or set KAIPM_BINARY
                """)
        }
        return path
    }
}

/// A real git repository of desired state and plugins in a temp folder, plus a host root.
final class TestRepo: @unchecked Sendable {
    let temp: TempDir
    /// The host name the tests plan for.
    let host: String

    var base: String { temp.path }
    /// The git work tree.
    var repo: String { base + "/repo" }
    /// `--root` of the host.
    var hostRoot: String { base + "/host" }
    /// A folder for `dir:` plugin sources (allowed by the default kos.config.yaml).
    var dirs: String { base + "/dirs" }
    var layout: HostLayout { HostLayout(root: hostRoot) }

    /// A repository whose kos.config.yaml allows `examples/plugins` and `<base>/dirs`, with no
    /// preloads, and the given example plugins copied from the package (not yet committed).
    init(host: String = "test-host", examples: [String] = []) throws {
        self.host = host
        temp = try TempDir()
        try FileManager.default.createDirectory(atPath: repo, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dirs, withIntermediateDirectories: true)
        try git("init", "-q")
        try write("desired-state/kos.config.yaml", Self.kosConfig(dirs: dirs))
        for name in examples { try copyExample(name) }
    }

    static func kosConfig(dirs: String, preload: [String] = []) -> String {
        """
        apiVersion: kaipm/v1
        kind: KosConfig
        preload: [\(preload.joined(separator: ", "))]
        allowedSources:
          paths: [examples/plugins]
          dirs: [\(dirs)]
        defaults:
          resources: {memory: 256Mi, cpu: 1, pids: 64}
        reconcileInterval: 5m

        """
    }

    // MARK: Files and git

    func path(_ relative: String) -> String { repo + "/" + relative }

    func write(_ relative: String, _ text: String) throws {
        let full = path(relative)
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: full))
    }

    func read(_ relative: String) throws -> String { try String(contentsOfFile: path(relative), encoding: .utf8) }

    func remove(_ relative: String) throws { try FileManager.default.removeItem(atPath: path(relative)) }

    /// Replaces the first occurrence of `old` in a repository file; fails if it is not there.
    func replace(_ relative: String, _ old: String, with new: String) throws {
        let text = try read(relative)
        guard let range = text.range(of: old) else { throw SupportError("'\(old)' not found in \(relative)") }
        try write(relative, text.replacingCharacters(in: range, with: new))
    }

    /// Copies `examples/plugins/<name>` of the package into the repository.
    func copyExample(_ name: String) throws {
        let target = path("examples/plugins/\(name)")
        try FileManager.default.createDirectory(atPath: path("examples/plugins"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: PackagePaths.examples + "/\(name)", toPath: target)
    }

    @discardableResult
    func git(_ args: String...) throws -> String {
        let result = try Shell.run("/usr/bin/git", ["-c", "user.name=Kaipm Test", "-c", "user.email=test@kaipm.invalid",
                                                    "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false",
                                                    "-c", "core.autocrlf=false", "-c", "core.symlinks=true"] + args,
                                   cwd: repo, env: ["GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
                                                    "GIT_TERMINAL_PROMPT": "0"], scratch: base)
        guard result.status == 0 else { throw SupportError("git \(args.joined(separator: " ")): \(result)") }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Stages everything in the test repository (a temp folder of its own) and commits.
    @discardableResult
    func commit(_ message: String) throws -> String {
        try git("add", "-A", ".")
        try git("commit", "-q", "--allow-empty", "-m", message)
        return try git("rev-parse", "HEAD")
    }

    // MARK: Desired state

    /// Writes `desired-state/plugins/<id>.yaml`.
    func writeEntry(_ id: String, version: String, source: String? = nil, active: Bool = true,
                    dependsOn: [String] = [], extra: String = "") throws {
        var text = """
            apiVersion: kaipm/v1
            kind: Plugin
            id: \(id)
            version: \(version)
            source:
              \(source ?? "path: examples/plugins/\(id)")
            active: \(active)

            """
        if !dependsOn.isEmpty { text += "dependsOn: [\(dependsOn.joined(separator: ", "))]\n" }
        text += extra
        try write("desired-state/plugins/\(id).yaml", text)
    }

    /// Writes `desired-state/plugins/<id>.yaml` for one of the package's example plugins at its version.
    func writeExampleEntry(_ id: String, active: Bool = true, dependsOn: [String] = [], extra: String = "") throws {
        let versions = ["core-logger": "2.0.0", "my-plugin": "1.0.0", "notes": "0.3.1", "weather": "1.2.0"]
        try writeEntry(id, version: versions[id] ?? "0.0.0", active: active, dependsOn: dependsOn, extra: extra)
    }

    /// Writes a small valid plugin (plugin.json, manifest.yaml, main.py, ui/config.schema.json)
    /// into `folder` (repository-relative unless absolute).
    func generatePlugin(_ id: String, version: String = "1.0.0", folder: String? = nil) throws {
        let dir = folder ?? "examples/plugins/\(id)"
        func put(_ name: String, _ text: String) throws {
            if dir.hasPrefix("/") {
                try FileManager.default.createDirectory(atPath: dir + "/" + (name as NSString).deletingLastPathComponent,
                                                        withIntermediateDirectories: true)
                try Data(text.utf8).write(to: URL(fileURLWithPath: dir + "/" + name))
            } else {
                try write(dir + "/" + name, text)
            }
        }
        try put("plugin.json", """
            {"id": "\(id)", "name": "Generated \(id)", "version": "\(version)", "author": "kaipm tests <t@kaipm.invalid>", "license": "MIT"}

            """)
        try put("manifest.yaml", """
            apiVersion: kaipm/v1
            kind: PluginManifest
            capabilities: []
            permissions: {}
            entryPoints:
              main: main.py

            """)
        try put("main.py", "def main():\n    return \"\(id)\"\n")
        try put("ui/config.schema.json", """
            {"type": "object", "properties": {"size": {"type": "integer", "default": 1}}}

            """)
    }

    // MARK: Host

    /// A reconciler for this repository's HEAD (or `source`) and the test host.
    func reconciler(source: DesiredSource? = nil, host: String? = nil, lockWait: Double = 0,
                    sandboxes: SandboxRuntime? = nil) -> Reconciler {
        Reconciler(options: ReconcileOptions(root: hostRoot,
                                             source: source ?? .git(repo: repo, rev: "HEAD", path: "desired-state", fetch: false),
                                             host: host ?? self.host, actor: "tests", lockWait: lockWait, sandboxes: sandboxes))
    }

    /// The host's registry (opened in this process).
    func registry() throws -> Registry { try Registry(path: layout.registry) }

    func rows() throws -> [String: RegisteredPlugin] {
        Dictionary(uniqueKeysWithValues: try registry().plugins().map { ($0.id, $0) })
    }

    func auditCount() throws -> Int { try registry().audit(limit: 100_000).count }

    /// Store entry folder names (hex), without `.index` and temporaries.
    func storeEntries() throws -> Set<String> {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: layout.store)) ?? []
        return Set(names.filter { !$0.hasPrefix(".") })
    }

    func storeTemporaries() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: layout.store)) ?? []).filter { $0.hasPrefix(".tmp-") }
    }

    /// Runs SQL on the host's registry with Debian's Python (its sqlite3 module), bypassing kaipm,
    /// and returns what the statement printed (rows as tab-separated lines).
    @discardableResult
    func sql(_ statement: String, readOnly: Bool = false) throws -> String {
        let script = """
            import sqlite3, sys
            uri = 'file:' + sys.argv[1] + ('?mode=ro' if sys.argv[3] == 'ro' else '')
            db = sqlite3.connect(uri, uri=True, timeout=10)
            rows = db.execute(sys.argv[2]).fetchall()
            db.commit()
            for row in rows: print('\\t'.join(str(v) for v in row))
            """
        let result = try Shell.run("/usr/bin/python3", ["-c", script, layout.registry, statement, readOnly ? "ro" : "rw"],
                                   scratch: base)
        guard result.status == 0 else { throw SupportError("sql \(statement): \(result)") }
        return result.stdout
    }

    // MARK: CLI

    /// Runs the real `kaipm` with `args`; `--root`, `--repo` and `--host` are added for the commands
    /// that take them unless `plain` is set.
    func kaipm(_ args: [String], env: [String: String] = [:], plain: Bool = false) throws -> CommandResult {
        try Shell.run(try KaipmBinary.require(), plain ? args : withDefaults(args), cwd: repo, env: env, scratch: base)
    }

    func startKaipm(_ args: [String], env: [String: String] = [:]) throws -> Shell.Child {
        try Shell.start(try KaipmBinary.require(), withDefaults(args), cwd: repo, env: env, scratch: base)
    }

    private func withDefaults(_ args: [String]) -> [String] {
        guard let command = args.first else { return args }
        var extra: [String] = []
        if ["plan", "apply", "verify", "status", "history", "audit"].contains(command) && !args.contains("--root") {
            extra += ["--root", hostRoot]
        }
        if ["plan", "apply", "validate"].contains(command) {
            if !args.contains("--repo") { extra += ["--repo", repo] }
            if command != "validate" && !args.contains("--host") { extra += ["--host", host] }
        }
        return [command] + extra + args.dropFirst()
    }
}

/// Waits until `condition` holds or `timeout` seconds pass; returns whether it held.
func waitUntil(timeout: Double, interval: Double = 0.02, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        usleep(UInt32(interval * 1_000_000))
    }
    return try condition()
}

extension Plan {
    /// `kind plugin` per action, for compact expectations.
    var steps: [String] { actions.map { "\($0.action.rawValue) \($0.plugin)" } }

    func action(_ kind: ActionKind, _ plugin: String) -> PlanAction? {
        actions.first { $0.action == kind && $0.plugin == plugin }
    }
}
