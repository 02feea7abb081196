import Foundation

/// Generates a desired-state git repository with N plugins of about 10 files and 50 KB each.
///
/// The commit is written with `git fast-import`, straight into a pack: `git add` would write a
/// loose object per file and `git gc` delete them again, and ext4 then skips the inodes freed in
/// the last minutes when it allocates new ones (`recently_deleted`), which made the first apply
/// that follows pay for the generator's churn (a 1000-plugin first apply took twice as long).
final class BenchRepo {
    let path: String
    let plugins: Int
    /// Whether the generated plugins start out active (the sandbox benchmark activates them later).
    var active = true
    /// Files written by `generate`, in order, for the fast-import stream.
    private var written: [String] = []

    init(path: String, plugins: Int) {
        self.path = path
        self.plugins = plugins
    }

    /// Writes the files and commits them with the git CLI.
    func generate() throws {
        let fm = FileManager.default
        try? fm.removeItem(atPath: path)
        try fm.createDirectory(atPath: path + "/desired-state/plugins", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: path + "/desired-state/config/plugins", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: path + "/desired-state/hosts", withIntermediateDirectories: true)
        try write("desired-state/kos.config.yaml", """
            apiVersion: kaipm/v1
            kind: KosConfig
            allowedSources: {paths: [plugins-src]}

            """)
        try write("desired-state/hosts/bench.yaml", "apiVersion: kaipm/v1\nkind: Host\nlabels: {role: bench}\n")
        var generator = SplitMix(seed: 42)
        for index in 0..<plugins {
            let id = Self.id(index)
            try writePlugin(id, version: "1.0.0", generator: &generator)
            let dependency = index > 0 && index % 10 == 0 ? "dependsOn: [\(Self.id(index - 1))]\n" : ""
            try write("desired-state/plugins/\(id).yaml", """
                apiVersion: kaipm/v1
                kind: Plugin
                id: \(id)
                version: 1.0.0
                source: {path: plugins-src/\(id)}
                active: \(active)
                \(dependency)resources: {memory: 64Mi, cpu: 0.25, pids: 16}

                """)
            try write("desired-state/config/plugins/\(id).config.yaml", "level: \(index % 3 == 0 ? "debug" : "info")\nretries: \(index % 7)\n")
        }
        try git(["init", "-q", "-b", "main"])
        // A host's clone is packed, as fetched; loose objects would make every read an open().
        try fastImport(message: "bench: \(plugins) plugins")
        // The index is made to match the commit, so that later `commit -a` see only real changes.
        try git(["reset", "-q"])
    }

    /// Commits every file `generate` wrote as the first commit of `main`, into one pack.
    private func fastImport(message: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        process.arguments = ["-C", path, "fast-import", "--quiet"]
        let input = Pipe()
        process.standardInput = input
        try process.run()
        let out = input.fileHandleForWriting
        let header = "commit refs/heads/main\ncommitter bench <bench@localhost> 1700000000 +0000\n"
            + "data \(message.utf8.count)\n\(message)\n"
        out.write(Data(header.utf8))
        for relative in written {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path + "/" + relative))
            out.write(Data("M 100644 inline \(relative)\ndata \(bytes.count)\n".utf8))
            out.write(bytes)
            out.write(Data("\n".utf8))
        }
        out.write(Data("done\n".utf8))
        try out.close()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchError("git fast-import failed") }
    }

    /// Changes one plugin's version and content in a new commit.
    func changeOnePlugin(round: Int) throws {
        let id = Self.id(plugins / 2)
        let version = "1.0.\(round)"
        var generator = SplitMix(seed: UInt64(1000 + round))
        try writePlugin(id, version: version, generator: &generator)
        let entry = path + "/desired-state/plugins/\(id).yaml"
        let text = try String(contentsOfFile: entry, encoding: .utf8)
        let updated = text.replacingOccurrences(of: #"version: [0-9.]+"#, with: "version: \(version)", options: .regularExpression)
        try updated.write(toFile: entry, atomically: true, encoding: .utf8)
        try git(["commit", "-qam", "bench: change \(id) to \(version)"])
    }

    /// Sets every plugin's `active:` and commits it.
    func setActive(_ active: Bool) throws {
        for index in 0..<plugins {
            let entry = path + "/desired-state/plugins/\(Self.id(index)).yaml"
            let text = try String(contentsOfFile: entry, encoding: .utf8)
            let updated = text.replacingOccurrences(of: #"active: (true|false)"#, with: "active: \(active)", options: .regularExpression)
            try updated.write(toFile: entry, atomically: true, encoding: .utf8)
        }
        try git(["commit", "-qam", "bench: \(active ? "activate" : "deactivate") \(plugins) plugins"])
    }

    static func id(_ index: Int) -> String { "plugin-\(String(format: "%05d", index))" }

    private func writePlugin(_ id: String, version: String, generator: inout SplitMix) throws {
        let dir = "plugins-src/\(id)"
        try FileManager.default.createDirectory(atPath: path + "/\(dir)/hooks", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: path + "/\(dir)/ui", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: path + "/\(dir)/lib", withIntermediateDirectories: true)
        try write("\(dir)/plugin.json", """
            {"id": "\(id)", "name": "Bench \(id)", "version": "\(version)", "author": "bench", "license": "MIT", "sandbox": true}

            """)
        try write("\(dir)/manifest.yaml", """
            apiVersion: kaipm/v1
            kind: PluginManifest
            capabilities: [bench]
            entryPoints: {main: main.py, hooks: {onLoad: hooks/onLoad.py, onCommand: hooks/onCommand.py}}
            commands: [ping]

            """)
        try write("\(dir)/ui/config.schema.json", """
            {"type": "object", "properties": {"level": {"enum": ["debug", "info"], "default": "info"}, "retries": {"type": "integer", "default": 3}}}

            """)
        try write("\(dir)/main.py", "def ping():\n    return 'pong'\n" + filler(&generator, bytes: 4_000))
        try write("\(dir)/hooks/onLoad.py", "def on_load(ctx):\n    pass\n")
        try write("\(dir)/hooks/onCommand.py", "def on_command(ctx, command, args):\n    return {'ok': True}\n")
        // Six library files bring the plugin to about 50 KB.
        for n in 0..<6 {
            try write("\(dir)/lib/module\(n).py", filler(&generator, bytes: 7_500))
        }
    }

    private func filler(_ generator: inout SplitMix, bytes: Int) -> String {
        var text = ""
        text.reserveCapacity(bytes + 80)
        while text.utf8.count < bytes {
            text += "CONSTANT_\(generator.next() % 100_000) = \(generator.next() % 1_000_000)  # \(generator.next())\n"
        }
        return text
    }

    private func write(_ relative: String, _ text: String) throws {
        try text.write(toFile: path + "/" + relative, atomically: false, encoding: .utf8)
        written.append(relative)
    }

    private func git(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        process.arguments = ["-C", path, "-c", "user.name=bench", "-c", "user.email=bench@localhost"] + arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchError("git \(arguments.joined(separator: " ")) failed") }
    }
}

/// A tiny deterministic generator so that runs are comparable.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
