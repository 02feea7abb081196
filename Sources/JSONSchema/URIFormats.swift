/// RFC 3986 URIs, RFC 3987 IRIs and RFC 6570 URI templates.
enum URIFormats {
    typealias Scalars = ArraySlice<Unicode.Scalar>

    static func isUnreserved(_ c: Unicode.Scalar, iri: Bool) -> Bool {
        if c.isASCII {
            let b = UInt8(c.value)
            return Formats.isAlpha(b) || Formats.isDigit(b) || c == "-" || c == "." || c == "_" || c == "~"
        }
        return iri && isUCSChar(c)
    }

    /// RFC 3987 ucschar.
    static func isUCSChar(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        if (0xA0...0xD7FF).contains(v) || (0xF900...0xFDCF).contains(v) || (0xFDF0...0xFFEF).contains(v) { return true }
        if v >= 0x10000 && v <= 0xEFFFD { return (v & 0xFFFF) < 0xFFFE && !(0xE0000..<0xE1000).contains(v) }
        return false
    }

    static func isSubDelim(_ c: Unicode.Scalar) -> Bool { "!$&'()*+,;=".unicodeScalars.contains(c) }

    /// Whether every character is allowed (pct-encodings must be complete); `extra` adds allowed ASCII characters.
    static func valid(_ s: Scalars, extra: String, iri: Bool, privateUse: Bool = false) -> Bool {
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            if c == "%" {
                guard i + 2 < s.endIndex, s[i + 1].isASCII, s[i + 2].isASCII,
                    Formats.isHex(UInt8(s[i + 1].value)), Formats.isHex(UInt8(s[i + 2].value)) else { return false }
                i += 3
                continue
            }
            let ok = isUnreserved(c, iri: iri) || isSubDelim(c) || extra.unicodeScalars.contains(c)
                || (privateUse && iri && ((0xE000...0xF8FF).contains(c.value) || (0xF0000...0xFFFFD).contains(c.value)
                    || (0x100000...0x10FFFD).contains(c.value)))
            guard ok else { return false }
            i += 1
        }
        return true
    }

    static func isURI(_ string: String, requireScheme: Bool, iri: Bool) -> Bool {
        var s = Array(string.unicodeScalars)[...]
        if let hash = s.firstIndex(of: "#") {
            guard valid(s[(hash + 1)...], extra: ":@/?", iri: iri) else { return false }
            s = s[..<hash]
        }
        if let q = s.firstIndex(of: "?") {
            guard valid(s[(q + 1)...], extra: ":@/?", iri: iri, privateUse: true) else { return false }
            s = s[..<q]
        }
        var hasScheme = false
        if let colon = s.firstIndex(of: ":"), !s[..<colon].contains("/") {
            let scheme = s[..<colon]
            guard let first = scheme.first, first.isASCII, Formats.isAlpha(UInt8(first.value)),
                scheme.allSatisfy({ $0.isASCII && (Formats.isAlpha(UInt8($0.value)) || Formats.isDigit(UInt8($0.value)) || $0 == "+" || $0 == "-" || $0 == ".") })
            else { return false }
            hasScheme = true
            s = s[(colon + 1)...]
        }
        if requireScheme && !hasScheme { return false }
        if s.count >= 2, s[s.startIndex] == "/", s[s.startIndex + 1] == "/" {
            s = s[(s.startIndex + 2)...]
            let end = s.firstIndex(of: "/") ?? s.endIndex
            guard isAuthority(s[..<end], iri: iri) else { return false }
            s = s[end...]
        } else if !hasScheme {
            let firstSegmentEnd = s.firstIndex(of: "/") ?? s.endIndex
            if s[..<firstSegmentEnd].contains(":") { return false }
        }
        return valid(s, extra: ":@/", iri: iri)
    }

    static func isAuthority(_ a: Scalars, iri: Bool) -> Bool {
        var host = a
        if let at = a.lastIndex(of: "@") {
            guard valid(a[..<at], extra: ":", iri: iri) else { return false }
            host = a[(at + 1)...]
        }
        if host.first == "[" {
            guard let close = host.firstIndex(of: "]") else { return false }
            let inner = host[(host.startIndex + 1)..<close]
            let rest = host[(close + 1)...]
            guard rest.isEmpty || (rest.first == ":" && rest.dropFirst().allSatisfy { $0.isASCII && Formats.isDigit(UInt8($0.value)) }) else { return false }
            if inner.first == "v" || inner.first == "V" {
                guard let dot = inner.firstIndex(of: "."), dot > inner.startIndex + 1 else { return false }
                return inner[(inner.startIndex + 1)..<dot].allSatisfy { $0.isASCII && Formats.isHex(UInt8($0.value)) }
                    && !inner[(dot + 1)...].isEmpty && valid(inner[(dot + 1)...], extra: ":", iri: false)
            }
            return NetworkFormats.isIPv6(String(String.UnicodeScalarView(inner)))
        }
        if let colon = host.lastIndex(of: ":") {
            guard host[(colon + 1)...].allSatisfy({ $0.isASCII && Formats.isDigit(UInt8($0.value)) }) else { return false }
            host = host[..<colon]
        }
        return valid(host, extra: "", iri: iri)
    }

    /// RFC 6570 URI template (levels 1-4).
    @Sendable static func isURITemplate(_ string: String) -> Bool {
        let s = Array(string.unicodeScalars)
        var i = 0
        while i < s.count {
            let c = s[i]
            if c == "{" {
                guard let close = s[i...].firstIndex(of: "}") else { return false }
                guard isExpression(s[(i + 1)..<close]) else { return false }
                i = close + 1
                continue
            }
            if c == "%" {
                guard i + 2 < s.count, s[i + 1].isASCII, s[i + 2].isASCII, Formats.isHex(UInt8(s[i + 1].value)),
                    Formats.isHex(UInt8(s[i + 2].value)) else { return false }
                i += 3
                continue
            }
            if c.value <= 0x20 || c.value == 0x7F || "\"<>\\^`{|}".unicodeScalars.contains(c) { return false }
            i += 1
        }
        return true
    }

    static func isExpression(_ e: ArraySlice<Unicode.Scalar>) -> Bool {
        var e = e
        if let first = e.first, "+#./;?&=,!@|".unicodeScalars.contains(first) { e = e.dropFirst() }
        guard !e.isEmpty else { return false }
        for spec in e.split(separator: ",", omittingEmptySubsequences: false) {
            var name = spec
            if spec.last == "*" {
                name = spec.dropLast()
            } else if let colon = spec.firstIndex(of: ":") {
                let digits = spec[(colon + 1)...]
                guard !digits.isEmpty, digits.count <= 4, digits.first != "0",
                    digits.allSatisfy({ $0.isASCII && Formats.isDigit(UInt8($0.value)) }) else { return false }
                name = spec[..<colon]
            }
            guard !name.isEmpty, name.first != ".", name.last != "." else { return false }
            var i = name.startIndex
            while i < name.endIndex {
                let c = name[i]
                if c == "%" {
                    guard i + 2 < name.endIndex, Formats.isHex(UInt8(truncatingIfNeeded: name[i + 1].value)),
                        Formats.isHex(UInt8(truncatingIfNeeded: name[i + 2].value)) else { return false }
                    i += 3
                    continue
                }
                guard c.isASCII, Formats.isAlpha(UInt8(c.value)) || Formats.isDigit(UInt8(c.value)) || c == "_" || c == "." else { return false }
                if c == ".", i + 1 < name.endIndex, name[i + 1] == "." { return false }
                i += 1
            }
        }
        return true
    }
}
