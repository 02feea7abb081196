import Glibc
import KaipmCore
@testable import KaipmStore
import Testing

@Suite struct TreeHasherTests {
    /// A tree with the awkward cases: nesting, `a-b` sorting before `a/b`, spaces, a leading dash,
    /// UTF-8, an empty file, an executable and a file larger than the 1 MiB read buffer.
    func awkwardTree(_ fx: StoreFixture) throws -> String {
        try fx.write("p/a/b", "nested\n")
        try fx.write("p/a-b", "dash\n")
        try fx.write("p/with space.txt", "space\n")
        try fx.write("p/-rf", "leading dash\n")
        try fx.write("p/ünïcödé/ß.md", "utf8\n")
        try fx.write("p/empty", "")
        try fx.write("p/hooks/install", "#!/bin/sh\necho hi\n", mode: 0o755)
        var big = [UInt8](repeating: 0, count: 3 << 20 + 12345)
        for i in big.indices { big[i] = UInt8(truncatingIfNeeded: i &* 2654435761 >> 13) }
        try fx.write("p/data/big.bin", bytes: big)
        return fx.path("p")
    }

    @Test func matchesTheCoreutilsPipeline() throws {
        let fx = try StoreFixture()
        defer { withExtendedLifetime(fx) {} }
        let dir = try awkwardTree(fx)
        let hashed = try TreeHasher.hash(DirectoryTree(root: dir))
        let expected = "h1:" + (try fx.shell(coreutilsTreeHash, in: dir))
        #expect(hashed.hash.value == expected)
        // The xxd variant of the README gives the same answer.
        let viaXxd = try? fx.shell("find . -type f | LC_ALL=C sort | sed 's|^\\./||' | xargs -r -d '\\n' sha256sum -- | sha256sum | xxd -r -p | base64", in: dir)
        if let viaXxd { #expect("h1:" + viaXxd == expected) }
        #expect(hashed.files.map(\.path) == ["-rf", "a-b", "a/b", "data/big.bin", "empty", "hooks/install", "with space.txt", "ünïcödé/ß.md"])
        #expect(hashed.files.first { $0.path == "hooks/install" }?.kind == .executable)
        #expect(hashed.files.first { $0.path == "empty" }?.sha256Hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(hashed.totalBytes == 3 << 20 + 12345 + 7 + 5 + 6 + 13 + 5 + 18)
        // Per-file digests agree with sha256sum.
        let line = try fx.shell("sha256sum -- data/big.bin", in: dir)
        #expect(line.hasPrefix(hashed.files.first { $0.path == "data/big.bin" }?.sha256Hex ?? "-"))
    }

    @Test func hashesASubtreeAndAnyFileTreeAlike() throws {
        let fx = try StoreFixture()
        defer { withExtendedLifetime(fx) {} }
        try fx.write("repo/plugins/x/hooks/run", "run\n", mode: 0o755)
        try fx.write("repo/plugins/x/README", "readme\n")
        try fx.write("repo/other", "not part of it\n")
        let sub = try TreeHasher.hash(DirectoryTree(root: fx.path("repo")), under: "plugins/x")
        let direct = try TreeHasher.hash(DirectoryTree(root: fx.path("repo/plugins/x")))
        #expect(sub == direct)
        let memory = MemoryTree(["plugins/x/hooks/run": (.executable, Array("run\n".utf8)),
                                 "plugins/x/README": (.file, Array("readme\n".utf8))])
        #expect(try TreeHasher.hash(memory, under: "plugins/x") == direct)
        let shell = try fx.shell(coreutilsTreeHash, in: fx.path("repo/plugins/x"))
        #expect(direct.hash.value == "h1:" + shell)
    }

    @Test func emptyTreeHashesLikeEmptyInput() throws {
        let fx = try StoreFixture()
        defer { withExtendedLifetime(fx) {} }
        try FileManagerHelper.mkdir(fx.path("empty"))
        let hashed = try TreeHasher.hash(DirectoryTree(root: fx.path("empty")))
        #expect(hashed.files.isEmpty)
        #expect(hashed.hash.value == "h1:" + (try fx.shell(coreutilsTreeHash, in: fx.path("empty"))))
    }

    @Test func refusesSymlinksSpecialFilesAndBadPaths() throws {
        let fx = try StoreFixture()
        defer { withExtendedLifetime(fx) {} }
        try fx.write("s/hooks/real", "x")
        try fx.symlink("s/hooks/x", to: "real")
        let tree = DirectoryTree(root: fx.path("s"))
        #expect(throws: StoreError.symlink(path: "hooks/x", tree: tree.description)) { try TreeHasher.hash(tree) }
        let message = "\(StoreError.symlink(path: "hooks/x", tree: tree.description))"
        #expect(message.contains("'hooks/x'") && message.contains("replace it with a regular file"))

        try fx.write("f/a", "x")
        try fx.fifo("f/sub/pipe")
        let fifoTree = DirectoryTree(root: fx.path("f"))
        #expect(throws: StoreError.specialFile(path: "sub/pipe", tree: fifoTree.description)) { try TreeHasher.hash(fifoTree) }

        for bad in ["../escape", "/abs", "a//b", "a/./b", "back\\slash", "nul\u{0}byte", "new\nline", "trailing/"] {
            let memory = MemoryTree(text: [bad: "x"])
            #expect(throws: StoreError.self, "\(bad)") { try TreeHasher.hash(memory) }
            do {
                _ = try TreeHasher.hash(memory)
            } catch let StoreError.invalidPath(path, _, reason) {
                #expect(path == bad)
                #expect(!reason.isEmpty)
            }
        }
        #expect(throws: StoreError.self) { try TreeHasher.hash(tree, under: "../s") }
    }

    @Test func enforcesLimits() throws {
        let fx = try StoreFixture()
        defer { withExtendedLifetime(fx) {} }
        for i in 0..<5 { try fx.write("l/f\(i)", String(repeating: "x", count: 100)) }
        let tree = DirectoryTree(root: fx.path("l"))
        #expect(throws: StoreError.tooManyFiles(count: 5, limit: 4, tree: tree.description)) {
            try TreeHasher.hash(tree, limits: TreeLimits(maxFiles: 4))
        }
        #expect(throws: StoreError.treeTooLarge(bytes: 500, limit: 450, tree: tree.description)) {
            try TreeHasher.hash(tree, limits: TreeLimits(maxTotalBytes: 450))
        }
        #expect(throws: StoreError.fileTooLarge(path: "f0", bytes: 100, limit: 99, tree: tree.description)) {
            try TreeHasher.hash(tree, limits: TreeLimits(maxFileBytes: 99))
        }
        #expect(try TreeHasher.hash(tree, limits: TreeLimits(maxFiles: 5, maxTotalBytes: 500, maxFileBytes: 100)).files.count == 5)
        // A tree whose listing under-reports sizes is still caught while reading.
        let liar = LyingTree(inner: tree)
        #expect(throws: StoreError.fileTooLarge(path: "f0", bytes: 100, limit: 99, tree: liar.description)) {
            try TreeHasher.hash(liar, limits: TreeLimits(maxFileBytes: 99))
        }
        #expect(TreeLimits.default == TreeLimits(maxFiles: 10_000, maxTotalBytes: 256 << 20, maxFileBytes: 64 << 20))
    }
}

/// Reports every file as empty in its listing, to check that limits are enforced on the bytes read.
struct LyingTree: FileTree {
    var inner: DirectoryTree
    var description: String { "liar" }
    func entries(under path: String) throws -> [FileTreeEntry] {
        try inner.entries(under: path).map { FileTreeEntry(path: $0.path, kind: $0.kind, size: 0) }
    }
    func contents(of path: String) throws -> [UInt8] { try inner.contents(of: path) }
    func identity(of path: String) throws -> String? { nil }
}

enum FileManagerHelper {
    static func mkdir(_ path: String) throws {
        guard Glibc.mkdir(path, 0o755) == 0 else { throw FixtureError("mkdir \(path)") }
    }
}
