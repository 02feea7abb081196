/// UUIDs, regular expressions and JSON pointers.
enum MiscFormats {
    /// RFC 4122 textual UUID: 8-4-4-4-12 hex digits.
    @Sendable static func isUUID(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count == 36 else { return false }
        for (i, c) in b.enumerated() {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                guard c == UInt8(ascii: "-") else { return false }
            } else if !Formats.isHex(c) {
                return false
            }
        }
        return true
    }

    /// An ECMA-262 regular expression (unicode mode).
    @Sendable static func isRegex(_ s: String) -> Bool {
        do {
            _ = try ECMARegex(s)
            return true
        } catch let error as ECMARegex.SyntaxError {
            // Swift's engine lacks lookbehind, which ECMA-262 has; the syntax is still valid.
            return error.message.contains("lookbehind is not currently supported")
        } catch {
            return false
        }
    }

    /// RFC 6901 JSON pointer.
    @Sendable static func isJSONPointer(_ s: String) -> Bool {
        if s.isEmpty { return true }
        guard s.hasPrefix("/") else { return false }
        return validEscapes(Array(s.utf8)[...])
    }

    static func validEscapes(_ b: ArraySlice<UInt8>) -> Bool {
        var i = b.startIndex
        while i < b.endIndex {
            if b[i] == UInt8(ascii: "~") {
                guard i + 1 < b.endIndex, b[i + 1] == UInt8(ascii: "0") || b[i + 1] == UInt8(ascii: "1") else { return false }
                i += 1
            }
            i += 1
        }
        return true
    }

    /// Relative JSON pointer: a non-negative integer, optional index adjustment, then `#` or a JSON pointer.
    @Sendable static func isRelativeJSONPointer(_ s: String) -> Bool {
        let b = Array(s.utf8)
        var i = 0
        while i < b.count, Formats.isDigit(b[i]) { i += 1 }
        guard i > 0, i == 1 || b[0] != UInt8(ascii: "0") else { return false }
        if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            let start = i + 1
            i = start
            while i < b.count, Formats.isDigit(b[i]) { i += 1 }
            guard i > start, i == start + 1 || b[start] != UInt8(ascii: "0"), !(i == start + 1 && b[start] == UInt8(ascii: "0")) else {
                return false
            }
        }
        if i == b.count { return true }
        if b[i] == UInt8(ascii: "#") { return i + 1 == b.count }
        guard b[i] == UInt8(ascii: "/") else { return false }
        return validEscapes(b[i...])
    }
}
