import Foundation
import KaipmEngine
import Synchronization
import Testing

/// `kaipm logs --follow` on a real log file that the test writes and rotates as the supervisor does.
@Suite("Following a console log")
struct PluginConsoleTests {
    final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func add(_ line: String) { lock.withLock { lines.append(line) } }
        var all: [String] { lock.withLock { lines } }
    }

    @Test func followPrintsTheTailThenNewLinesAcrossRotations() throws {
        let root = try TempDir()
        let folder = root.path + "/kos/log/plugins"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let log = folder + "/echo.log"
        func append(_ text: String, to file: String = log) throws {
            if !FileManager.default.fileExists(atPath: file) { _ = FileManager.default.createFile(atPath: file, contents: nil) }
            let handle = try #require(FileHandle(forWritingAtPath: file))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(text.utf8))
            try handle.close()
        }
        try append("old 1\nold 2\nold 3\npart")

        let collected = Collected()
        let done = Atomic<Bool>(false)
        let console = PluginConsole(root: root.path)
        let follower = Thread {
            try? console.follow("echo", lines: 2, interval: 0.01, stop: { done.load(ordering: .relaxed) }) { collected.add($0) }
        }
        follower.start()
        #expect(waitUntil(timeout: 5) { collected.all.count >= 2 })
        try append("ial line\nnew 1\n")
        #expect(waitUntil(timeout: 5) { collected.all.count >= 4 })
        // The supervisor's rotation: the full file becomes .1, writing goes on in a new one.
        try append("last of the old file\n")
        try FileManager.default.moveItem(atPath: log, toPath: log + ".1")
        try append("first of the new file\n")
        #expect(waitUntil(timeout: 5) { collected.all.count >= 6 })
        try append("new 2\n")
        #expect(waitUntil(timeout: 5) { collected.all.count >= 7 })
        done.store(true, ordering: .relaxed)
        Thread.sleep(forTimeInterval: 0.05)
        #expect(collected.all == ["old 2", "old 3", "partial line", "new 1", "last of the old file", "first of the new file", "new 2"])
    }
}
