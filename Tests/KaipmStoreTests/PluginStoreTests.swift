import Glibc
import KaipmCore
@testable import KaipmStore
import Testing

@Suite struct PluginStoreTests {
    /// A plugin source folder and an empty store in one fixture.
    func setUp() throws -> (StoreFixture, DirectoryTree, PluginStore) {
        let fx = try StoreFixture()
        defer { withExtendedLifetime(fx) {} }
        try fx.write("src/plugin.yaml", "id: demo\n")
        try fx.write("src/hooks/install", "#!/bin/sh\nexit 0\n", mode: 0o755)
        try fx.write("src/share/doc/README", "hello\n")
        return (fx, DirectoryTree(root: fx.path("src")), PluginStore(root: fx.path("root")))
    }

    @Test func installsReadOnlyUnderTheTreeHash() throws {
        let (fx, source, store) = try setUp()
        defer { withExtendedLifetime(fx) {} }
        #expect(store.directory == fx.path("root/kos/plugins/store"))
        let hashed = try TreeHasher.hash(source)
        let entry = try store.install(from: source)
        #expect(entry.installedNow)
        #expect(entry.hash == hashed.hash)
        #expect(entry.path == store.path(for: hashed.hash))
        #expect(entry.path == store.directory + "/" + hashed.hash.hex)
        #expect(entry.files == hashed.files)
        #expect(try fileMode(entry.path) == 0o555)
        #expect(try fileMode(entry.path + "/hooks") == 0o555)
        #expect(try fileMode(entry.path + "/hooks/install") == 0o555)
        #expect(try fileMode(entry.path + "/plugin.yaml") == 0o444)
        #expect(try fileMode(entry.path + "/share/doc/README") == 0o444)
        #expect(try DirectoryTree(root: entry.path).contents(of: "share/doc/README") == Array("hello\n".utf8))
        // The installed copy hashes like the source, with coreutils too.
        #expect("h1:" + (try fx.shell(coreutilsTreeHash, in: entry.path)) == hashed.hash.value)
        #expect(try store.entries() == [hashed.hash])
        #expect(try fx.list("root/kos/plugins/store") == [".index", hashed.hash.hex])
        #expect(try fx.list("root/kos/plugins/store/.index") == [hashed.hash.hex + ".tsv"])
        #expect(try store.verify(hashed.hash).isIntact)
        #expect(try store.verify(hashed.hash, full: true).isIntact)
    }

    @Test func installIsIdempotent() throws {
        let (fx, source, store) = try setUp()
        defer { withExtendedLifetime(fx) {} }
        let first = try store.install(from: source)
        let again = try store.install(from: source, expected: first.hash)
        #expect(!again.installedNow)
        #expect(again.files == first.files)
        let withoutPin = try store.install(from: source)
        #expect(!withoutPin.installedNow)
        #expect(try store.entries() == [first.hash])
        #expect(try store.cleanTemporaries() == [])
    }

    @Test func installsFromASubtreeOfAnyFileTree() throws {
        let fx = try StoreFixture()
        defer { withExtendedLifetime(fx) {} }
        let store = PluginStore(directory: fx.path("store"))
        let memory = MemoryTree(["plugins/demo/run": (.executable, Array("#!/bin/sh\n".utf8)),
                                 "plugins/demo/conf/a.yaml": (.file, Array("a: 1\n".utf8)),
                                 "desired/host.yaml": (.file, Array("x\n".utf8))])
        let entry = try store.install(from: memory, under: "plugins/demo")
        #expect(entry.files.map(\.path) == ["conf/a.yaml", "run"])
        #expect(try fileMode(entry.path + "/run") == 0o555)
        #expect(entry.hash == (try TreeHasher.hash(memory, under: "plugins/demo")).hash)
    }

    @Test func wrongExpectedHashLeavesNothingBehind() throws {
        let (fx, source, store) = try setUp()
        defer { withExtendedLifetime(fx) {} }
        let actual = try TreeHasher.hash(source).hash
        let wrong = TreeHash(files: [(path: "other", sha256: [UInt8](repeating: 7, count: 32))])
        #expect(throws: StoreError.checksumMismatch(expected: wrong, actual: actual, tree: source.description)) {
            try store.install(from: source, expected: wrong)
        }
        let message = "\(StoreError.checksumMismatch(expected: wrong, actual: actual, tree: source.description))"
        #expect(message.contains(wrong.value) && message.contains(actual.value) && message.contains("update the checksum pin"))
        #expect(try store.entries() == [])
        #expect(try fx.list("root/kos/plugins/store") == [".index"])
        #expect(try fx.list("root/kos/plugins/store/.index") == [])
    }

    @Test func refusedTreesLeaveNothingBehind() throws {
        let (fx, source, store) = try setUp()
        defer { withExtendedLifetime(fx) {} }
        try fx.symlink("src/hooks/x", to: "install")
        #expect(throws: StoreError.symlink(path: "hooks/x", tree: source.description)) { try store.install(from: source) }
        unlink(fx.path("src/hooks/x"))
        try fx.fifo("src/pipe")
        #expect(throws: StoreError.specialFile(path: "pipe", tree: source.description)) { try store.install(from: source) }
        unlink(fx.path("src/pipe"))
        #expect(throws: StoreError.tooManyFiles(count: 3, limit: 2, tree: source.description)) {
            try store.install(from: source, limits: TreeLimits(maxFiles: 2))
        }
        // Limits hit while copying (the listing lied) also clean up the temporary folder.
        #expect(throws: StoreError.self) {
            try store.install(from: LyingTree(inner: source), limits: TreeLimits(maxTotalBytes: 20))
        }
        #expect(try store.entries() == [])
        #expect(try fx.list("root/kos/plugins/store").filter { $0.hasPrefix(".tmp-") } == [])
    }

    @Test func executableBitChangeReplacesTheEntry() throws {
        let (fx, source, store) = try setUp()
        defer { withExtendedLifetime(fx) {} }
        let first = try store.install(from: source)
        chmod(fx.path("src/share/doc/README"), 0o755)
        // The h1 hash ignores modes, so the pin still matches; the entry must follow the new mode.
        let second = try store.install(from: source, expected: first.hash)
        #expect(second.hash == first.hash)
        #expect(second.installedNow)
        #expect(try fileMode(second.path + "/share/doc/README") == 0o555)
        #expect(try store.verify(first.hash).isIntact)
    }

    @Test func tamperedEntryIsReplacedOnInstall() throws {
        let (fx, source, store) = try setUp()
        defer { withExtendedLifetime(fx) {} }
        let first = try store.install(from: source)
        let file = first.path + "/plugin.yaml"
        chmod(file, 0o644)
        try fx.write(String(file.dropFirst(fx.root.count + 1)), "id: evil\n", mode: 0o444)
        #expect(!(try store.verify(first.hash)).isIntact)
        let again = try store.install(from: source, expected: first.hash)
        #expect(again.installedNow)
        #expect(try store.verify(first.hash, full: true).isIntact)
        #expect(try DirectoryTree(root: again.path).contents(of: "plugin.yaml") == Array("id: demo\n".utf8))
    }

    @Test func removeGarbageCollectAndCleanTemporaries() throws {
        let (fx, source, store) = try setUp()
        defer { withExtendedLifetime(fx) {} }
        let a = try store.install(from: source)
        try fx.write("src/extra", "more\n")
        let b = try store.install(from: source)
        try fx.write("src/extra", "even more\n")
        let c = try store.install(from: source)
        #expect(try store.entries() == [a.hash, b.hash, c.hash].sorted())

        #expect(try store.garbageCollect(keep: [b.hash]) == [a.hash, c.hash].sorted())
        #expect(try store.entries() == [b.hash])
        #expect(try fx.list("root/kos/plugins/store/.index") == [b.hash.hex + ".tsv"])

        try store.remove(b.hash)
        try store.remove(b.hash)  // idempotent
        #expect(try store.entries() == [])
        #expect(try fx.list("root/kos/plugins/store") == [".index"])

        // Leftovers of a crash: a half-copied read-only temporary, a temporary index, an orphan index.
        try fx.write("root/kos/plugins/store/.tmp-1234/hooks/install", "half", mode: 0o444)
        chmod(fx.path("root/kos/plugins/store/.tmp-1234/hooks"), 0o555)
        chmod(fx.path("root/kos/plugins/store/.tmp-1234"), 0o555)
        try fx.write("root/kos/plugins/store/.index/.tmp-99", "partial")
        try fx.write("root/kos/plugins/store/.index/\(a.hash.hex).tsv", "orphan")
        let kept = try store.install(from: source)
        #expect(try store.cleanTemporaries() == [".index/.tmp-99", ".index/\(a.hash.hex).tsv", ".tmp-1234"].sorted())
        #expect(try fx.list("root/kos/plugins/store") == [".index", kept.hash.hex])
        #expect(try fx.list("root/kos/plugins/store/.index") == [kept.hash.hex + ".tsv"])
        #expect(try store.verify(kept.hash).isIntact)
        // A store that was never created is empty, not an error.
        let fresh = PluginStore(directory: fx.path("nowhere"))
        #expect(try fresh.entries() == [])
        #expect(try fresh.cleanTemporaries() == [])
        #expect(try fresh.garbageCollect(keep: []) == [])
    }

    @Test func entryLoadsFromTheIndexOrRehashes() throws {
        let (fx, source, store) = try setUp()
        defer { withExtendedLifetime(fx) {} }
        let installed = try store.install(from: source)
        #expect(try store.entry(installed.hash)?.files == installed.files)
        unlink(fx.path("root/kos/plugins/store/.index/\(installed.hash.hex).tsv"))
        #expect(try store.entry(installed.hash)?.files == installed.files)
        let other = TreeHash(files: [])
        #expect(try store.entry(other) == nil)
    }
}
