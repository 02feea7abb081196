import Glibc
import KaipmCore
@testable import KaipmStore
import Testing

@Suite struct IntegrityTests {
    /// An installed entry; returns the fixture, the store and the entry.
    func installed() throws -> (StoreFixture, PluginStore, StoreEntry) {
        let fx = try StoreFixture()
        defer { withExtendedLifetime(fx) {} }
        try fx.write("src/plugin.yaml", "id: demo\n")
        try fx.write("src/hooks/install", "#!/bin/sh\nexit 0\n", mode: 0o755)
        try fx.write("src/conf/settings", "level=1\n")
        let store = PluginStore(directory: fx.path("store"))
        let entry = try store.install(from: DirectoryTree(root: fx.path("src")))
        return (fx, store, entry)
    }

    /// Opens a file of an entry for writing the way an intruder would: chmod u+w, then write.
    func overwrite(_ path: String, _ text: String, append: Bool = false) throws {
        guard chmod(path, 0o644) == 0 else { throw FixtureError("chmod \(path)") }
        let fd = open(path, O_WRONLY | (append ? O_APPEND : O_TRUNC))
        guard fd >= 0 else { throw FixtureError("open \(path)") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        guard write(fd, bytes, bytes.count) == bytes.count else { throw FixtureError("write \(path)") }
    }

    @Test func quickCheckFindsAModifiedFile() throws {
        let (fx, store, entry) = try installed()
        defer { withExtendedLifetime(fx) {} }
        try overwrite(entry.path + "/conf/settings", "level=2 # and more\n")
        let report = try store.verify(entry.hash)
        #expect(!report.isIntact)
        #expect(!report.fullCheck)
        #expect(report.problems.map(\.path) == ["conf/settings"])
        #expect(report.problems.first?.kind == .modified)
        #expect(report.problems.first?.description.contains("size 8 → 19 bytes") == true)
        let full = try store.verify(entry.hash, full: true)
        #expect(full.fullCheck)
        #expect(full.problems.map(\.kind).sorted { $0.rawValue < $1.rawValue } == [.modeChanged, .modified])
    }

    @Test func quickCheckFindsAddedAndRemovedFiles() throws {
        let (fx, store, entry) = try installed()
        defer { withExtendedLifetime(fx) {} }
        chmod(entry.path + "/conf", 0o755)
        try fx.write(String((entry.path + "/conf/extra").dropFirst(fx.root.count + 1)), "new\n")
        unlink(entry.path + "/conf/settings")
        chmod(entry.path + "/conf", 0o555)
        let report = try store.verify(entry.hash)
        #expect(report.problems.map(\.kind) == [.added, .removed])
        #expect(report.problems.map(\.path) == ["conf/extra", "conf/settings"])
        #expect(report.problems[0].description == "'conf/extra' was added (a file)")
        #expect(report.problems[1].description == "'conf/settings' was removed")
        let full = try store.verify(entry.hash, full: true)
        #expect(full.problems.map(\.kind) == [.added, .removed])
    }

    @Test func quickCheckFindsTypeAndModeChanges() throws {
        let (fx, store, entry) = try installed()
        defer { withExtendedLifetime(fx) {} }
        chmod(entry.path, 0o755)
        chmod(entry.path + "/hooks/install", 0o4755)
        unlink(entry.path + "/plugin.yaml")
        symlink("/etc/passwd", entry.path + "/plugin.yaml")
        symlink("/etc/shadow", entry.path + "/sneaky")
        let report = try store.verify(entry.hash)
        #expect(report.problems.map(\.path) == ["", "hooks/install", "plugin.yaml", "sneaky"])
        #expect(report.problems.map(\.kind) == [.modeChanged, .modeChanged, .typeChanged, .added])
        #expect(report.problems[1].description.contains("mode 0555 → 4755"))
        #expect(report.problems[2].description.contains("now a symlink"))
        #expect(report.problems[3].description.contains("a symlink"))
        let full = try store.verify(entry.hash, full: true)
        #expect(full.problems.map(\.kind) == [.modeChanged, .modeChanged, .typeChanged, .added])
    }

    @Test func missingEntryIsReported() throws {
        let (fx, store, entry) = try installed()
        defer { withExtendedLifetime(fx) {} }
        try Posix.removeTree(entry.path)
        for full in [false, true] {
            let report = try store.verify(entry.hash, full: full)
            #expect(report.problems.map(\.kind) == [.missingEntry])
            #expect(report.problems.first?.description.contains(entry.path) == true)
        }
    }

    @Test func sameSizeSameMtimeEditIsCaught() throws {
        let (fx, store, entry) = try installed()
        defer { withExtendedLifetime(fx) {} }
        let file = entry.path + "/conf/settings"
        let before = try Posix.lstat(file)
        try overwrite(file, "level=9\n")  // same size
        chmod(file, 0o444)
        try setMtime(file, seconds: Int(before.mtimeNs / 1_000_000_000), nanoseconds: Int(before.mtimeNs % 1_000_000_000))
        let after = try Posix.lstat(file)
        #expect(after.size == before.size && after.mtimeNs == before.mtimeNs && after.permissions == before.permissions)

        // The ctime still moved, so even the quick check notices.
        let quick = try store.verify(entry.hash)
        #expect(quick.problems.map(\.kind) == [.modified])
        #expect(quick.problems.first?.description.contains("status-change time") == true)
        // The full check proves it from the bytes.
        let full = try store.verify(entry.hash, full: true)
        #expect(full.problems.map(\.path) == ["conf/settings"])
        #expect(full.problems.first?.kind == .modified)
        #expect(full.problems.first?.description.contains("content differs") == true)

        // Without an index, the full check can only tell that the tree hash differs.
        unlink(store.indexPath(for: entry.hash))
        let blind = try store.verify(entry.hash)
        #expect(blind.fullCheck)
        #expect(blind.problems.map(\.kind) == [.hashMismatch])
        #expect(blind.problems.first?.description.contains(entry.hash.value) == true)
    }

    @Test func missingOrStaleIndexFallsBackAndIsRefreshed() throws {
        let (fx, store, entry) = try installed()
        defer { withExtendedLifetime(fx) {} }
        let indexFile = store.indexPath(for: entry.hash)
        unlink(indexFile)
        let report = try store.verify(entry.hash)
        #expect(report.fullCheck)
        #expect(report.isIntact)
        // The full check wrote the index back; the next quick check uses it.
        #expect(Posix.lstatIfExistsOrNil(indexFile) != nil)
        let quick = try store.verify(entry.hash)
        #expect(!quick.fullCheck && quick.isIntact)

        // A corrupt index also falls back to a full check.
        chmod(indexFile, 0o644)
        try fx.write(String(indexFile.dropFirst(fx.root.count + 1)), "garbage")
        #expect(try store.verify(entry.hash).fullCheck)

        // Metadata drift with authentic content (say, a restore from backup): quick flags it,
        // full clears it and refreshes the index.
        let file = entry.path + "/plugin.yaml"
        try setMtime(file, seconds: 1_000_000, nanoseconds: 0)
        #expect(try store.verify(entry.hash).problems.map(\.kind) == [.modified])
        #expect(try store.verify(entry.hash, full: true).isIntact)
        #expect(try store.verify(entry.hash).isIntact)
    }

    @Test func forgedIndexDoesNotHideTampering() throws {
        let (fx, store, entry) = try installed()
        defer { withExtendedLifetime(fx) {} }
        let file = entry.path + "/plugin.yaml"
        try overwrite(file, "id: evil\n")
        chmod(file, 0o444)
        // The intruder rewrites the index to match; only the full check, anchored on the hash, catches it.
        let records = try [IndexRecord](walkForIndex(entry.path))
        try Posix.writeFileAtomically(store.indexPath(for: entry.hash), StoreIndex.encode(hash: entry.hash, records: records, directories: []))
        #expect(try store.verify(entry.hash).isIntact)
        let full = try store.verify(entry.hash, full: true)
        #expect(!full.isIntact)
        #expect(full.problems.map(\.kind) == [.hashMismatch])
    }

    /// Index records of the entry as it is now (what a forger would write).
    func walkForIndex(_ path: String) throws -> [IndexRecord] {
        let hashed = try TreeHasher.hash(DirectoryTree(root: path))
        return try hashed.files.map { IndexRecord(path: $0.path, stat: try Posix.lstat(path + "/" + $0.path), sha256: $0.sha256) }
    }
}

extension Posix {
    static func lstatIfExistsOrNil(_ path: String) -> FileStat? { (try? lstatIfExists(path)) ?? nil }
}
