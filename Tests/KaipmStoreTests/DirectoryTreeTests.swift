import Glibc
import KaipmCore
@testable import KaipmStore
import Testing

@Suite struct DirectoryTreeTests {
    @Test func listsRecursivelyInByteOrderWithKinds() throws {
        let fx = try StoreFixture()
        defer { withExtendedLifetime(fx) {} }
        try fx.write("t/a/b", "ab")
        try fx.write("t/a-b", "a-b")
        try fx.write("t/Z", "upper")
        try fx.write("t/run.sh", "#!/bin/sh\n", mode: 0o750)
        try fx.write("t/only-group-x", "x", mode: 0o610)
        try fx.symlink("t/link", to: "a/b")
        try fx.fifo("t/pipe")
        let tree = DirectoryTree(root: fx.path("t"))
        let entries = try tree.entries(under: "")
        #expect(entries.map(\.path) == ["Z", "a-b", "a/b", "link", "only-group-x", "pipe", "run.sh"])
        let kinds = Dictionary(uniqueKeysWithValues: entries.map { ($0.path, $0.kind) })
        #expect(kinds == ["Z": .file, "a-b": .file, "a/b": .file, "link": .symlink, "only-group-x": .executable,
                          "pipe": .other, "run.sh": .executable])
        #expect(entries.first { $0.path == "run.sh" }?.size == 10)
        #expect(entries.allSatisfy { $0.id == nil })
        #expect(try tree.entries(under: "a").map(\.path) == ["b"])
        #expect(try tree.identity(of: "a") == nil)
        #expect(tree.description == "dir:" + fx.path("t"))
    }

    @Test func contentsRefusesSymlinksAndSpecialFiles() throws {
        let fx = try StoreFixture()
        defer { withExtendedLifetime(fx) {} }
        try fx.write("t/real", "bytes")
        try fx.write("outside/secret", "secret")
        try fx.symlink("t/link", to: "real")
        try fx.symlink("t/dirlink", to: fx.path("outside"))
        try fx.fifo("t/pipe")
        let tree = DirectoryTree(root: fx.path("t"))
        #expect(try tree.contents(of: "real") == Array("bytes".utf8))
        #expect(throws: FileTreeError.notARegularFile(path: "link", tree: tree.description)) { try tree.contents(of: "link") }
        // A fifo must be refused without blocking on the open.
        #expect(throws: FileTreeError.notARegularFile(path: "pipe", tree: tree.description)) { try tree.contents(of: "pipe") }
        // A symlinked directory on the way is never followed.
        #expect(throws: FileTreeError.self) { try tree.contents(of: "dirlink/secret") }
        #expect(throws: FileTreeError.notADirectory(path: "dirlink", tree: tree.description)) { try tree.entries(under: "dirlink") }
        #expect(throws: FileTreeError.notFound(path: "missing", tree: tree.description)) { try tree.contents(of: "missing") }
        #expect(throws: FileTreeError.notFound(path: "missing", tree: tree.description)) { try tree.entries(under: "missing") }
        #expect(throws: FileTreeError.notADirectory(path: "real", tree: tree.description)) { try tree.entries(under: "real") }
        #expect(throws: FileTreeError.self) { try tree.contents(of: "../outside/secret") }
        #expect(throws: FileTreeError.self) { try tree.entries(under: "/etc") }
        #expect(tree.exists("real"))
        #expect(tree.exists("link"))
        #expect(!tree.exists("missing"))
        #expect(!tree.exists("../outside"))
    }

    @Test func rootMayBeReachedThroughASymlink() throws {
        let fx = try StoreFixture()
        defer { withExtendedLifetime(fx) {} }
        try fx.write("real/f", "f")
        try fx.symlink("alias", to: fx.path("real"))
        let tree = DirectoryTree(root: fx.path("alias") + "/")
        #expect(tree.root == fx.path("alias"))
        #expect(try tree.entries(under: "").map(\.path) == ["f"])
        #expect(try tree.contents(of: "f") == Array("f".utf8))
    }
}
