import KaipmCore

/// What the store recorded about one installed file: its stat right after install and its digest.
struct IndexRecord: Sendable, Equatable {
    var path: String
    var stat: FileStat
    var sha256: [UInt8]

    var kind: FileTreeEntry.Kind { stat.isExecutable ? .executable : .file }
    var hashedFile: HashedFile { HashedFile(path: path, kind: kind, size: stat.size, sha256: sha256) }
}

/// The stat cache of one store entry, kept at `store/.index/<hex>.tsv` (outside the read-only entry).
///
/// Format: a header line `kaipm-store-index 1 <h1 hash>`, then one line per file:
/// `<size>\t<mtime ns>\t<ctime ns>\t<inode>\t<mode octal>\t<sha256 hex>\t<path>` (the path last, so it
/// may contain tabs; it never contains a line break).
enum StoreIndex {
    static let magic = "kaipm-store-index 1"

    static func encode(hash: TreeHash, records: [IndexRecord]) -> [UInt8] {
        var out = "\(magic) \(hash.value)\n"
        for r in records {
            out += "\(r.stat.size)\t\(r.stat.mtimeNs)\t\(r.stat.ctimeNs)\t\(r.stat.inode)\t"
            out += "\(String(r.stat.mode, radix: 8))\t\(Hex.encode(r.sha256))\t\(r.path)\n"
        }
        return Array(out.utf8)
    }

    /// The records, or nil when the text is not an index of `hash` (corrupt, truncated, another entry's).
    static func decode(_ bytes: [UInt8], hash: TreeHash) -> [IndexRecord]? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.hasSuffix("\n") else { return nil }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        lines.removeLast()
        guard let header = lines.first, header == "\(magic) \(hash.value)" else { return nil }
        var records = [IndexRecord]()
        records.reserveCapacity(lines.count - 1)
        for line in lines.dropFirst() {
            let fields = line.split(separator: "\t", maxSplits: 6, omittingEmptySubsequences: false)
            guard fields.count == 7,
                let size = Int(fields[0]), let mtime = Int64(fields[1]), let ctime = Int64(fields[2]),
                let inode = UInt64(fields[3]), let mode = UInt32(fields[4], radix: 8),
                let digest = hexDecode(fields[5]), digest.count == 32
            else { return nil }
            let path = String(fields[6])
            guard TreePathRules.problem(with: path) == nil else { return nil }
            records.append(IndexRecord(
                path: path,
                stat: FileStat(mode: mode, size: size, mtimeNs: mtime, ctimeNs: ctime, inode: inode),
                sha256: digest))
        }
        return records
    }

    static func hexDecode(_ text: Substring) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            default: return nil
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let hi = nibble(chars[i]), let lo = nibble(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}
