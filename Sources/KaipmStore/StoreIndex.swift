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
/// Format: a header line `kaipm-store-index 2 <h1 hash>`, then one line per file:
/// `<size>\t<mtime ns>\t<ctime ns>\t<inode>\t<mode octal>\t<sha256 hex>\t<path>` (the path last, so it
/// may contain tabs; it never contains a line break), then one line per subdirectory in the same
/// shape, with its directory mode and a digest of zeros. Directory lines let the quick check
/// trust a directory whose mtime, ctime and inode did not change to hold the same names, instead
/// of listing it (creating, removing or renaming anything in a directory changes its mtime and
/// ctime, and ctime cannot be set back). Version 1 had no directory lines; such an index reads
/// as missing, so the entry gets one full check, which rewrites it.
///
/// The index is read on every quick integrity check (each no-op run reads all of them), so it is
/// parsed straight from its bytes in one pass: integers by hand, the digest without intermediate
/// arrays, and a String made for the path only (`decode`), or for nothing at all (`Line`, used by
/// the quick check).
enum StoreIndex {
    static let magic = "kaipm-store-index 2"

    /// `records` are the files, `directories` the subdirectories (not the entry's root, whose times
    /// move when it is renamed into place), each with its stat.
    static func encode(hash: TreeHash, records: [IndexRecord], directories: [IndexRecord]) -> [UInt8] {
        var out = "\(magic) \(hash.value)\n"
        for r in records + directories.map({ IndexRecord(path: $0.path, stat: $0.stat, sha256: zeroDigest) }) {
            out += "\(r.stat.size)\t\(r.stat.mtimeNs)\t\(r.stat.ctimeNs)\t\(r.stat.inode)\t"
            out += "\(String(r.stat.mode, radix: 8))\t\(Hex.encode(r.sha256))\t\(r.path)\n"
        }
        return Array(out.utf8)
    }

    static let zeroDigest = [UInt8](repeating: 0, count: 32)

    /// The file records, or nil when the text is not an index of `hash` (corrupt, truncated, another entry's).
    static func decode(_ bytes: [UInt8], hash: TreeHash) -> [IndexRecord]? {
        decodeAll(bytes, hash: hash)?.filter { !$0.stat.isDirectory }
    }

    /// The file records and then the directory records, or nil as for `decode`.
    static func decodeAll(_ bytes: [UInt8], hash: TreeHash) -> [IndexRecord]? {
        bytes.withUnsafeBufferPointer { buffer -> [IndexRecord]? in
            guard var offset = bodyStart(buffer, hash: hash) else { return nil }
            var records = [IndexRecord]()
            // Lines are ~100 bytes; a slight over-reservation is cheaper than regrowing.
            records.reserveCapacity((buffer.count - offset) / 96 + 1)
            while offset < buffer.count {
                guard let line = Line(buffer, at: offset) else { return nil }
                let path = String(decoding: UnsafeBufferPointer(rebasing: buffer[line.pathStart..<line.pathEnd]), as: UTF8.self)
                let digest = [UInt8](unsafeUninitializedCapacity: 32) { out, count in
                    line.decodeDigest(buffer, into: out)
                    count = 32
                }
                records.append(IndexRecord(path: path, stat: line.stat, sha256: digest))
                offset = line.next
            }
            return records
        }
    }

    /// The offset of the first record line when `buffer` is an index of `hash` ending in a line
    /// break, else nil.
    static func bodyStart(_ buffer: UnsafeBufferPointer<UInt8>, hash: TreeHash) -> Int? {
        guard let last = buffer.last, last == UInt8(ascii: "\n") else { return nil }
        var offset = 0
        func expect(_ text: String) -> Bool {
            for byte in text.utf8 {
                guard offset < buffer.count, buffer[offset] == byte else { return false }
                offset += 1
            }
            return true
        }
        guard expect(magic), expect(" "), expect(hash.value), expect("\n") else { return nil }
        return offset
    }

    /// One record line, parsed in place: the stat fields and where the digest and the path are.
    struct Line {
        var stat: FileStat
        /// The offset of the 64 hex digits of the digest.
        var digestStart: Int
        /// The path's byte range; `pathEnd` is the offset of the line break.
        var pathStart: Int
        var pathEnd: Int
        /// The offset of the next line.
        var next: Int { pathEnd + 1 }

        /// The line starting at `start`, or nil when it is malformed or its path breaks `TreePathRules`.
        /// `buffer` must end in a line break (`bodyStart` checks it).
        init?(_ buffer: UnsafeBufferPointer<UInt8>, at start: Int) {
            var i = start
            guard let size = StoreIndex.parseSigned(buffer, &i, max: UInt64(Int.max)),
                let mtime = StoreIndex.parseSigned(buffer, &i, max: UInt64(Int64.max)),
                let ctime = StoreIndex.parseSigned(buffer, &i, max: UInt64(Int64.max)),
                let inode = StoreIndex.parseUnsigned(buffer, &i, radix: 10, max: UInt64.max),
                let mode = StoreIndex.parseUnsigned(buffer, &i, radix: 8, max: UInt64(UInt32.max))
            else { return nil }
            // 64 lowercase hex digits, then a tab.
            guard buffer.count - i > 64, buffer[i + 64] == UInt8(ascii: "\t") else { return nil }
            for j in i..<(i + 64) where StoreIndex.nibble(buffer[j]) == nil { return nil }
            digestStart = i
            pathStart = i + 65
            // The path runs to the line break (it may hold tabs); the buffer is known to end in one.
            var end = pathStart
            while buffer[end] != UInt8(ascii: "\n") { end += 1 }
            pathEnd = end
            guard TreePathRules.problem(withBytes: UnsafeBufferPointer(rebasing: buffer[pathStart..<pathEnd])) == nil else {
                return nil
            }
            stat = FileStat(mode: UInt32(mode), size: Int(size), mtimeNs: mtime, ctimeNs: ctime, inode: inode)
        }

        /// Writes the 32 digest bytes to `out` (which holds at least 32).
        func decodeDigest(_ buffer: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>) {
            for k in 0..<32 {
                // Validated by init.
                let hi = StoreIndex.nibble(buffer[digestStart + 2 * k])!
                let lo = StoreIndex.nibble(buffer[digestStart + 2 * k + 1])!
                out[k] = hi << 4 | lo
            }
        }
    }

    /// A decimal integer with an optional sign (as `Int("…")` accepts it) up to a tab at `i`, which is
    /// skipped; nil when malformed or out of `-max...max`.
    @inline(__always)
    static func parseSigned(_ buffer: UnsafeBufferPointer<UInt8>, _ i: inout Int, max: UInt64) -> Int64? {
        var negative = false
        if i < buffer.count, buffer[i] == UInt8(ascii: "-") || buffer[i] == UInt8(ascii: "+") {
            negative = buffer[i] == UInt8(ascii: "-")
            i += 1
        }
        // -Int64.min is one more than Int64.max.
        guard let magnitude = parseDigits(buffer, &i, radix: 10, max: negative ? max + 1 : max) else { return nil }
        return negative ? Int64(bitPattern: 0 &- magnitude) : Int64(magnitude)
    }

    /// An unsigned integer in `radix` up to a tab at `i`, which is skipped; nil when malformed or
    /// over `max`. Signs as `UInt64("…")` takes them: `+` allowed, `-` only before a zero.
    @inline(__always)
    static func parseUnsigned(_ buffer: UnsafeBufferPointer<UInt8>, _ i: inout Int, radix: UInt64, max: UInt64) -> UInt64? {
        if i < buffer.count, buffer[i] == UInt8(ascii: "+") || buffer[i] == UInt8(ascii: "-") {
            let negative = buffer[i] == UInt8(ascii: "-")
            i += 1
            if negative { return parseDigits(buffer, &i, radix: radix, max: 0) }
        }
        return parseDigits(buffer, &i, radix: radix, max: max)
    }

    /// At least one digit in `radix` up to a tab at `i`, which is skipped; nil when malformed or over `max`.
    @inline(__always)
    static func parseDigits(_ buffer: UnsafeBufferPointer<UInt8>, _ i: inout Int, radix: UInt64, max: UInt64) -> UInt64? {
        let start = i
        var value: UInt64 = 0
        while i < buffer.count {
            let byte = buffer[i]
            if byte == UInt8(ascii: "\t") { break }
            let digit = UInt64(byte &- UInt8(ascii: "0"))
            guard digit < radix else { return nil }
            let (times, o1) = value.multipliedReportingOverflow(by: radix)
            let (sum, o2) = times.addingReportingOverflow(digit)
            guard !o1, !o2, sum <= max else { return nil }
            value = sum
            i += 1
        }
        guard i > start, i < buffer.count else { return nil }
        i += 1
        return value
    }

    @inline(__always)
    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        default: return nil
        }
    }

    static func hexDecode(_ text: Substring) -> [UInt8]? {
        var text = text
        return text.withUTF8 { chars -> [UInt8]? in
            guard chars.count % 2 == 0 else { return nil }
            var valid = true
            let bytes = [UInt8](unsafeUninitializedCapacity: chars.count / 2) { out, count in
                for k in 0..<(chars.count / 2) {
                    guard let hi = nibble(chars[2 * k]), let lo = nibble(chars[2 * k + 1]) else {
                        valid = false
                        break
                    }
                    out[k] = hi << 4 | lo
                    count = k + 1
                }
            }
            return valid ? bytes : nil
        }
    }
}
