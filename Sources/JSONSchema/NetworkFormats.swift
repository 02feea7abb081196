import Foundation

/// IPv4 and IPv6 address formats.
enum NetworkFormats {
    /// Dotted-quad IPv4 (RFC 2673): four decimal octets, no leading zeros.
    @Sendable static func isIPv4(_ s: String) -> Bool { checkIPv4(Array(s.utf8)[...]) }

    static func checkIPv4(_ b: ArraySlice<UInt8>) -> Bool {
        let parts = b.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(Formats.isDigit) else { return false }
            if part.count > 1, part.first == UInt8(ascii: "0") { return false }
            guard part.reduce(0, { $0 * 10 + Int($1 - 48) }) <= 255 else { return false }
        }
        return true
    }

    /// IPv6 text form (RFC 4291), with optional `::` and trailing IPv4; no zone identifiers.
    @Sendable static func isIPv6(_ s: String) -> Bool { checkIPv6(Array(s.utf8)[...]) }

    static func checkIPv6(_ b: ArraySlice<UInt8>) -> Bool {
        guard !b.isEmpty else { return false }
        let text = Array(b)
        var groups = 0
        var sawDoubleColon = false
        var i = 0
        if text.count >= 2, text[0] == UInt8(ascii: ":") {
            guard text[1] == UInt8(ascii: ":") else { return false }
            sawDoubleColon = true
            i = 2
            if i == text.count { return true }
        }
        while i < text.count {
            var j = i
            while j < text.count, Formats.isHex(text[j]) { j += 1 }
            if j < text.count, text[j] == UInt8(ascii: ".") {
                // Embedded IPv4 must be last and counts as two groups.
                guard checkIPv4(text[i...]) else { return false }
                groups += 2
                i = text.count
                break
            }
            guard j > i, j - i <= 4 else { return false }
            groups += 1
            i = j
            if i == text.count { break }
            guard text[i] == UInt8(ascii: ":") else { return false }
            i += 1
            if i < text.count, text[i] == UInt8(ascii: ":") {
                guard !sawDoubleColon else { return false }
                sawDoubleColon = true
                i += 1
                if i == text.count { break }
            } else if i == text.count {
                return false
            }
        }
        return sawDoubleColon ? groups <= 7 : groups == 8
    }
}

/// RFC 5321 mailboxes (and RFC 6531 internationalised ones).
enum EmailFormat {
    static let atextSymbols = Set("!#$%&'*+-/=?^_`{|}~".utf8)

    static func isEmail(_ s: String, international: Bool) -> Bool {
        guard let at = s.lastIndex(of: "@") else { return false }
        let local = s[..<at]
        let domain = String(s[s.index(after: at)...])
        guard !local.isEmpty, !domain.isEmpty, local.utf8.count <= 64 else { return false }
        if local.hasPrefix("\"") {
            guard local.count >= 2, local.hasSuffix("\"") else { return false }
            var escaped = false
            for scalar in local.unicodeScalars.dropFirst().dropLast() {
                if escaped { escaped = false; continue }
                if scalar == "\\" { escaped = true; continue }
                if scalar == "\"" { return false }
                if scalar.value < 32 || scalar.value == 127 { return false }
                if !scalar.isASCII && !international { return false }
            }
            if escaped { return false }
        } else {
            for atom in local.split(separator: ".", omittingEmptySubsequences: false) {
                guard !atom.isEmpty else { return false }
                for scalar in atom.unicodeScalars {
                    if scalar.isASCII {
                        let b = UInt8(scalar.value)
                        guard Formats.isAlpha(b) || Formats.isDigit(b) || atextSymbols.contains(b) else { return false }
                    } else if !international {
                        return false
                    }
                }
            }
        }
        if domain.hasPrefix("[") {
            guard domain.hasSuffix("]") else { return false }
            let inner = domain.dropFirst().dropLast()
            if inner.hasPrefix("IPv6:") { return NetworkFormats.isIPv6(String(inner.dropFirst(5))) }
            return NetworkFormats.isIPv4(String(inner))
        }
        return international ? HostnameFormat.isIDNHostname(domain.precomposedStringWithCanonicalMapping) : HostnameFormat.isHostname(domain)
    }
}
