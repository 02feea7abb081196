import Foundation

/// A temporary folder holding real git repositories made with the `git` command line, removed
/// when the fixture goes away. Global and system git configuration are ignored so the tests do
/// not depend on the machine they run on.
final class GitFixture {
    let root: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.path
        root = "\(base)/kaipm-git-tests-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: root)
    }

    struct CommandFailed: Error, CustomStringConvertible {
        var command: String
        var status: Int32
        var stderr: String
        var description: String { "`\(command)` exited \(status): \(stderr)" }
    }

    /// Runs `git args…` in `dir` (relative to the fixture root) and returns its trimmed stdout.
    @discardableResult
    func git(_ args: String..., in dir: String, date: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-c", "user.name=Kaipm Test", "-c", "user.email=test@kaipm.invalid",
                             "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false",
                             "-c", "tag.gpgsign=false", "-c", "core.autocrlf=false"] + args
        process.currentDirectoryURL = URL(fileURLWithPath: path(dir))
        var env = ProcessInfo.processInfo.environment
        env["GIT_CONFIG_NOSYSTEM"] = "1"
        env["GIT_CONFIG_GLOBAL"] = "/dev/null"
        env["GIT_TERMINAL_PROMPT"] = "0"
        if let date {
            env["GIT_AUTHOR_DATE"] = date
            env["GIT_COMMITTER_DATE"] = date
        }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CommandFailed(command: "git " + args.joined(separator: " "), status: process.terminationStatus,
                                stderr: String(decoding: errData, as: UTF8.self))
        }
        return String(decoding: outData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The absolute path of `relative` inside the fixture.
    func path(_ relative: String) -> String {
        relative.isEmpty ? root : "\(root)/\(relative)"
    }

    /// Creates a normal repository at `dir` with branch `main`.
    func initRepository(_ dir: String) throws {
        try FileManager.default.createDirectory(atPath: path(dir), withIntermediateDirectories: true)
        try git("init", "-q", in: dir)
    }

    /// Writes `text` to `file` (relative to the fixture root), creating directories.
    func write(_ file: String, _ text: String, executable: Bool = false) throws {
        let full = path(file)
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: full))
        if executable {
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: full)
        }
    }

    func symlink(_ link: String, to target: String) throws {
        try FileManager.default.createSymbolicLink(atPath: path(link), withDestinationPath: target)
    }

    /// Stages everything in `dir` and commits it; returns the new commit id.
    @discardableResult
    func commitAll(_ dir: String, _ message: String, date: String? = nil) throws -> String {
        try git("add", "-A", in: dir)
        try git("commit", "-q", "-m", message, in: dir, date: date)
        return try git("rev-parse", "HEAD", in: dir)
    }
}
