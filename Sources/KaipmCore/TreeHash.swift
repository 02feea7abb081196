import Crypto

/// A plugin tree's content hash in Go's dirhash "h1:" scheme.
///
/// The hash is SHA-256 over the lines `<sha256-hex-of-file>  <path>\n` of every file, sorted by
/// path, base64-encoded with the `h1:` prefix. Anyone can recompute it with coreutils:
/// `find . -type f | LC_ALL=C sort | sed 's|^\./||' | xargs -r -d '\n' sha256sum -- | sha256sum | head -c 64 | tr a-f A-F | basenc --base16 -d | base64`
/// (see the README), which is why it was chosen over a bespoke format.
public struct TreeHash: Sendable, Hashable, Codable, CustomStringConvertible, Comparable {
    /// The full `h1:<base64>` text.
    public let value: String

    /// Parses `h1:<base64 of 32 bytes>`; nil for anything else.
    public init?(_ text: String) {
        guard text.hasPrefix("h1:") else { return nil }
        let b64 = text.dropFirst(3)
        guard let bytes = Base64.decode(String(b64)), bytes.count == 32 else { return nil }
        self.value = text
    }

    /// Computes the hash from each file's path and SHA-256 digest.
    public init(files: [(path: String, sha256: [UInt8])]) {
        let sorted = files.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
        var hasher = SHA256()
        for file in sorted {
            let line = "\(Hex.encode(file.sha256))  \(file.path)\n"
            hasher.update(data: Array(line.utf8))
        }
        let digest = Array(hasher.finalize())
        self.value = "h1:" + Base64.encode(digest)
    }

    /// The 32 digest bytes.
    public var digest: [UInt8] { Base64.decode(String(value.dropFirst(3))) ?? [] }

    /// Lowercase hex of the digest: the store's directory name, safe in any path.
    public var hex: String { Hex.encode(digest) }

    public var description: String { value }

    public static func < (lhs: TreeHash, rhs: TreeHash) -> Bool { lhs.value < rhs.value }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let hash = TreeHash(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(text)' is not an h1: tree hash")
        }
        self = hash
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}

/// Lowercase hexadecimal encoding.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out = [UInt8]()
        out.reserveCapacity(64)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// SHA-256 of `bytes` as lowercase hex.
    public static func sha256(_ bytes: [UInt8]) -> String {
        encode(SHA256.hash(data: bytes))
    }
}

/// Standard base64 (RFC 4648, with padding), without Foundation.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 2 < bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let n = UInt32(bytes[i]) << 16
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], UInt8(ascii: "="), UInt8(ascii: "=")]
        } else if rest == 2 {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], UInt8(ascii: "=")]
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ text: String) -> [UInt8]? {
        var table = [Int8](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = Int8(i) }
        let chars = Array(text.utf8)
        guard chars.count % 4 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(chars.count / 4 * 3)
        var i = 0
        while i < chars.count {
            var n: UInt32 = 0
            var pad = 0
            for j in 0..<4 {
                let c = chars[i + j]
                if c == UInt8(ascii: "=") {
                    guard i + 4 == chars.count, j >= 2 else { return nil }
                    pad += 1
                    n <<= 6
                } else {
                    guard pad == 0 else { return nil }
                    let v = table[Int(c)]
                    guard v >= 0 else { return nil }
                    n = n << 6 | UInt32(v)
                }
            }
            out.append(UInt8(n >> 16 & 0xff))
            if pad < 2 { out.append(UInt8(n >> 8 & 0xff)) }
            if pad < 1 { out.append(UInt8(n & 0xff)) }
            i += 4
        }
        return out
    }
}
