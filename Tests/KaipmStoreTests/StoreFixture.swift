import Foundation
import Glibc
import KaipmCore
@testable import KaipmStore

/// A temporary folder for one test, removed (read-only parts included) when the fixture goes away.
final class StoreFixture {
    let root: String

    init() throws {
        root = FileManager.default.temporaryDirectory.path + "/kaipm-store-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    deinit {
        try? Posix.removeTree(root)
    }

    func path(_ relative: String) -> String { root + "/" + relative }

    /// Writes `text` to `relative`, creating parent folders; `mode` sets the permissions.
    func write(_ relative: String, _ text: String, mode: Int = 0o644) throws {
        try write(relative, bytes: Array(text.utf8), mode: mode)
    }

    func write(_ relative: String, bytes: [UInt8], mode: Int = 0o644) throws {
        let full = path(relative)
        let parent = (full as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: full))
        guard chmod(full, mode_t(mode)) == 0 else { throw FixtureError("chmod \(full)") }
    }

    func symlink(_ relative: String, to target: String) throws {
        let full = path(relative)
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard Glibc.symlink(target, full) == 0 else { throw FixtureError("symlink \(full)") }
    }

    func fifo(_ relative: String) throws {
        let full = path(relative)
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard mkfifo(full, 0o644) == 0 else { throw FixtureError("mkfifo \(full)") }
    }

    /// Names in a folder (hidden ones included), sorted.
    func list(_ relative: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path(relative)).sorted()
    }

    /// Runs `/bin/sh -c script` in `directory` and returns its stdout with the trailing newline removed.
    func shell(_ script: String, in directory: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw FixtureError("`\(script)` exited \(process.terminationStatus): \(String(decoding: errors, as: UTF8.self))")
        }
        var text = String(decoding: data, as: UTF8.self)
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// An in-memory `FileTree`, standing in for a git tree.
struct MemoryTree: FileTree {
    var files: [String: (kind: FileTreeEntry.Kind, bytes: [UInt8])]

    init(_ files: [String: (kind: FileTreeEntry.Kind, bytes: [UInt8])]) { self.files = files }

    init(text: [String: String]) {
        files = text.mapValues { (kind: FileTreeEntry.Kind.file, bytes: Array($0.utf8)) }
    }

    var description: String { "memory:test" }

    func entries(under path: String) throws -> [FileTreeEntry] {
        let prefix = path.isEmpty ? "" : path + "/"
        let found = files.filter { $0.key.hasPrefix(prefix) }
        guard !found.isEmpty else { throw FileTreeError.notFound(path: path, tree: description) }
        return found.map { FileTreeEntry(path: String($0.key.dropFirst(prefix.count)), kind: $0.value.kind, size: $0.value.bytes.count) }
            .sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
    }

    func contents(of path: String) throws -> [UInt8] {
        guard let file = files[path] else { throw FileTreeError.notFound(path: path, tree: description) }
        return file.bytes
    }

    func identity(of path: String) throws -> String? { nil }
}

/// The coreutils pipeline that recomputes an h1 tree hash (documented on `TreeHasher`).
let coreutilsTreeHash = """
    find . -type f | LC_ALL=C sort | sed 's|^\\./||' | xargs -r -d '\\n' sha256sum -- | sha256sum | head -c 64 | tr a-f A-F | basenc --base16 -d | base64
    """

/// Sets a file's modification time (and access time) to `seconds` since the epoch, with nanoseconds.
func setMtime(_ path: String, seconds: Int, nanoseconds: Int) throws {
    var times = [timespec(tv_sec: seconds, tv_nsec: nanoseconds), timespec(tv_sec: seconds, tv_nsec: nanoseconds)]
    guard utimensat(AT_FDCWD, path, &times, AT_SYMLINK_NOFOLLOW) == 0 else { throw FixtureError("utimensat \(path)") }
}

func fileMode(_ path: String) throws -> UInt32 {
    try Posix.lstat(path).permissions
}
