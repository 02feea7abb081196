import Glibc
import KaipmCore
@testable import KaipmStore
import Testing

/// The cheap paths of every no-op run: the in-place index parser and the fd-relative quick check.
@Suite struct QuickCheckTests {
    /// A tree of `count` files spread over nested directories whose files are not contiguous in byte
    /// order (`a.txt` < `a/…` < `a0`, `d/b.txt` < `d/b/…`), with an executable, a non-ASCII name and a
    /// tab in a name.
    func writeLargeTree(_ fx: StoreFixture, count: Int) throws {
        try fx.write("src/a.txt", "top\n")
        try fx.write("src/a0", "after a/\n")
        try fx.write("src/run", "#!/bin/sh\n", mode: 0o755)
        try fx.write("src/d/b.txt", "before d/b/\n")
        try fx.write("src/d/b/deep/été.md", "accents\n")
        try fx.write("src/d/b/deep/with\ttab", "tab\n")
        for i in 0..<(count - 6) {
            let folder = ["a", "a/x", "d/b", "d/b/deep", "z"][i % 5]
            try fx.write("src/\(folder)/f\(i)", "file \(i)\n")
        }
    }

    @Test func quickCheckOfALargeIntactEntryIsCorrect() throws {
        let fx = try StoreFixture()
        defer { withExtendedLifetime(fx) {} }
        try writeLargeTree(fx, count: 2_000)
        let store = PluginStore(directory: fx.path("store"))
        let entry = try store.install(from: DirectoryTree(root: fx.path("src")))
        #expect(entry.files.count == 2_000)
        #expect(store.readIndex(entry.hash)?.count == 2_000)
        #expect(store.quickCheckPasses(entry.hash, entryPath: entry.path))
        let report = try store.verify(entry.hash)
        #expect(report.isIntact)
        #expect(!report.fullCheck)
        #expect(try store.verify(entry.hash, full: true).isIntact)

        // An extra empty read-only folder is no problem (as before), but the cheap way cannot tell.
        chmod(entry.path + "/d/b", 0o755)
        mkdir(entry.path + "/d/b/empty", 0o555)
        chmod(entry.path + "/d/b", 0o555)
        #expect(!store.quickCheckPasses(entry.hash, entryPath: entry.path))
        #expect(try store.verify(entry.hash).isIntact)
        chmod(entry.path + "/d/b", 0o755)
        rmdir(entry.path + "/d/b/empty")
        chmod(entry.path + "/d/b", 0o555)
        // The folder holds its names again, but its times moved: the cheap way cannot vouch for it
        // until a detailed check has found it intact and recorded its new times.
        #expect(!store.quickCheckPasses(entry.hash, entryPath: entry.path))
        #expect(try store.verify(entry.hash).isIntact)
        #expect(store.quickCheckPasses(entry.hash, entryPath: entry.path))

        // A file created and deleted again in a folder, with the folder's mtime put back: its ctime
        // still moved, so the quick check does not trust the folder.
        var times = stat()
        stat(entry.path + "/a/x", &times)
        chmod(entry.path + "/a/x", 0o755)
        try fx.write(String((entry.path + "/a/x/ghost").dropFirst(fx.root.count + 1)), "x\n", mode: 0o444)
        chmod(entry.path + "/a/x", 0o555)
        var restore = [times.st_atim, times.st_mtim]
        utimensat(AT_FDCWD, entry.path + "/a/x", &restore, 0)
        #expect(!store.quickCheckPasses(entry.hash, entryPath: entry.path))
        #expect(try store.verify(entry.hash).problems.map(\.path) == ["a/x/ghost"])
        chmod(entry.path + "/a/x", 0o755)
        unlink(entry.path + "/a/x/ghost")
        chmod(entry.path + "/a/x", 0o555)
        #expect(try store.verify(entry.hash).isIntact)

        // A file added deep down, one removed elsewhere: both named by the quick check.
        chmod(entry.path + "/d/b/deep", 0o755)
        try fx.write(String((entry.path + "/d/b/deep/intruder").dropFirst(fx.root.count + 1)), "x\n", mode: 0o444)
        chmod(entry.path + "/d/b/deep", 0o555)
        chmod(entry.path + "/z", 0o755)
        unlink(entry.path + "/z/f4")
        chmod(entry.path + "/z", 0o555)
        let tampered = try store.verify(entry.hash)
        #expect(!tampered.fullCheck)
        #expect(tampered.problems.map(\.kind) == [.added, .removed])
        #expect(tampered.problems.map(\.path) == ["d/b/deep/intruder", "z/f4"])
    }

    @Test func quickCheckFallsBackWhereItCannotDecide() throws {
        let fx = try StoreFixture()
        defer { withExtendedLifetime(fx) {} }
        try writeLargeTree(fx, count: 50)
        let store = PluginStore(directory: fx.path("store"))
        let entry = try store.install(from: DirectoryTree(root: fx.path("src")))
        #expect(store.quickCheckPasses(entry.hash, entryPath: entry.path))

        // A directory made writable: named as a mode change.
        chmod(entry.path + "/a/x", 0o755)
        #expect(!store.quickCheckPasses(entry.hash, entryPath: entry.path))
        #expect(try store.verify(entry.hash).problems.map(\.path) == ["a/x/"])
        chmod(entry.path + "/a/x", 0o555)

        // A directory replaced by a symlink to an identical copy: refused, not followed.
        let copy = fx.path("copy")
        chmod(entry.path, 0o755)
        #expect(rename(entry.path + "/z", copy) == 0)
        #expect(symlink(copy, entry.path + "/z") == 0)
        chmod(entry.path, 0o555)
        #expect(!store.quickCheckPasses(entry.hash, entryPath: entry.path))
        let report = try store.verify(entry.hash)
        #expect(report.problems.contains { $0.path == "z" && $0.kind == .added })
        #expect(report.problems.contains { $0.kind == .removed })

        // No index: the cheap way says no, verify does the full check.
        let other = try store.install(from: DirectoryTree(root: fx.path("src/d")))
        unlink(store.indexPath(for: other.hash))
        #expect(!store.quickCheckPasses(other.hash, entryPath: other.path))
        #expect(try store.verify(other.hash).fullCheck)
        #expect(store.quickCheckPasses(other.hash, entryPath: other.path))
    }

    @Test func indexRoundTripsEdgeValues() throws {
        let hash = TreeHash(files: [("x", [UInt8](repeating: 7, count: 32))])
        let records = [
            IndexRecord(path: "a\tb/c d", stat: FileStat(mode: 0o100444, size: 0, mtimeNs: -1_500_000_000, ctimeNs: .max, inode: .max),
                        sha256: (0..<32).map { UInt8($0 * 8) }),
            IndexRecord(path: "ünï/cødé", stat: FileStat(mode: 0o100555, size: .max, mtimeNs: .min, ctimeNs: 0, inode: 0),
                        sha256: [UInt8](repeating: 0xff, count: 32)),
        ]
        let directories = [IndexRecord(path: "ünï", stat: FileStat(mode: 0o040555, size: 4096, mtimeNs: 3, ctimeNs: 4, inode: 9),
                                      sha256: StoreIndex.zeroDigest)]
        let bytes = StoreIndex.encode(hash: hash, records: records, directories: directories)
        #expect(StoreIndex.decode(bytes, hash: hash) == records)
        #expect(StoreIndex.decodeAll(bytes, hash: hash) == records + directories)
        #expect(StoreIndex.decode(StoreIndex.encode(hash: hash, records: [], directories: []), hash: hash) == [])
        #expect(StoreIndex.decode(bytes, hash: TreeHash(files: [])) == nil)
        #expect(StoreIndex.decode(Array(bytes.dropLast()), hash: hash) == nil)
        #expect(StoreIndex.decode([], hash: hash) == nil)
    }

    /// The byte parser accepts and refuses exactly what the former String-based one did.
    @Test func indexDecodingMatchesTheStringBasedReference() throws {
        let hash = TreeHash(files: [("x", [UInt8](repeating: 1, count: 32))])
        let valid = StoreIndex.encode(hash: hash, records: [
            IndexRecord(path: "conf/settings", stat: FileStat(mode: 0o100444, size: 8, mtimeNs: 1_700_000_000_123_456_789,
                                                              ctimeNs: 1_700_000_000_223_456_789, inode: 1234), sha256: [UInt8](repeating: 0xab, count: 32)),
            IndexRecord(path: "hooks/install", stat: FileStat(mode: 0o100555, size: 17, mtimeNs: 5, ctimeNs: 6, inode: 7),
                        sha256: [UInt8](repeating: 0x01, count: 32)),
        ], directories: [])
        #expect(StoreIndex.decode(valid, hash: hash) != nil)
        let alphabet = Array("0123456789abcdefAF+-\t\n\r /.\\é\u{0}x".utf8)
        var generator = SplitMix64(seed: 7)
        var accepted = 0
        for _ in 0..<4_000 {
            var bytes = valid
            for _ in 0..<Int(generator.next() % 3 + 1) {
                let at = Int(generator.next() % UInt64(bytes.count))
                let byte = alphabet[Int(generator.next() % UInt64(alphabet.count))]
                switch generator.next() % 3 {
                case 0: bytes[at] = byte
                case 1: bytes.insert(byte, at: at)
                default: bytes.remove(at: at)
                }
            }
            // Only valid UTF-8 (the reference decoded with replacement, which the byte parser does
            // for the path alone).
            guard String(validating: bytes, as: UTF8.self) != nil else { continue }
            let mine = StoreIndex.decode(bytes, hash: hash)
            let reference = ReferenceIndex.decode(bytes, hash: hash)
            #expect(mine == reference, "\(String(decoding: bytes, as: UTF8.self).debugDescription)")
            if mine != nil { accepted += 1 }
        }
        #expect(accepted > 0)
        for text in ["+5", "-0", "+0", "007"] {
            let line = "\(StoreIndex.magic) \(hash.value)\n\(text)\t\(text)\t\(text)\t\(text)\t\(text)\t\(String(repeating: "0", count: 64))\tp\n"
            #expect(StoreIndex.decode(Array(line.utf8), hash: hash) == ReferenceIndex.decode(Array(line.utf8), hash: hash), "\(text)")
        }
        for text in ["-1", "", "+", "-", "99999999999999999999", "1 ", "0x1", "+-1"] {
            let line = "\(StoreIndex.magic) \(hash.value)\n\(text)\t1\t1\t\(text)\t444\t\(String(repeating: "0", count: 64))\tp\n"
            #expect(StoreIndex.decode(Array(line.utf8), hash: hash) == ReferenceIndex.decode(Array(line.utf8), hash: hash), "\(text)")
        }
    }

    /// The byte-level path rules give the same verdicts and messages as the former String-based ones.
    @Test func pathRulesMatchTheStringBasedReference() {
        let pieces = ["a", "b", "/", ".", "..", "\\", "\n", "\r", "\u{0}", "é", "\t"]
        var generator = SplitMix64(seed: 11)
        for _ in 0..<5_000 {
            let path = (0..<Int(generator.next() % 7)).map { _ in pieces[Int(generator.next() % UInt64(pieces.count))] }.joined()
            #expect(TreePathRules.problem(with: path) == ReferenceIndex.pathProblem(path), "\(path.debugDescription)")
        }
    }
}

/// A small deterministic generator for the fuzz-style comparisons.
struct SplitMix64 {
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

/// The String-based index decoder and path rules as they were before the byte parser, kept as the
/// reference the tests compare with.
enum ReferenceIndex {
    static func decode(_ bytes: [UInt8], hash: TreeHash) -> [IndexRecord]? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.hasSuffix("\n") else { return nil }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        lines.removeLast()
        guard let header = lines.first, header == "\(StoreIndex.magic) \(hash.value)" else { return nil }
        var records = [IndexRecord]()
        for line in lines.dropFirst() {
            let fields = line.split(separator: "\t", maxSplits: 6, omittingEmptySubsequences: false)
            guard fields.count == 7,
                let size = Int(fields[0]), let mtime = Int64(fields[1]), let ctime = Int64(fields[2]),
                let inode = UInt64(fields[3]), let mode = UInt32(fields[4], radix: 8),
                let digest = StoreIndex.hexDecode(fields[5]), digest.count == 32
            else { return nil }
            let path = String(fields[6])
            guard pathProblem(path) == nil else { return nil }
            records.append(IndexRecord(
                path: path,
                stat: FileStat(mode: mode, size: size, mtimeNs: mtime, ctimeNs: ctime, inode: inode),
                sha256: digest))
        }
        return records
    }

    static func pathProblem(_ path: String) -> String? {
        if path.isEmpty { return "the path is empty" }
        if path.hasPrefix("/") { return "absolute paths are refused" }
        for byte in path.utf8 {
            switch byte {
            case 0: return "it contains a NUL byte"
            case UInt8(ascii: "\\"): return "it contains a backslash"
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                return "it contains a line break (the h1 hash format is line based)"
            default: continue
            }
        }
        for component in path.split(separator: "/", omittingEmptySubsequences: false) {
            if component.isEmpty { return "it has an empty component (a doubled or trailing '/')" }
            if component == "." || component == ".." { return "it has a '\(component)' component" }
        }
        return nil
    }
}
