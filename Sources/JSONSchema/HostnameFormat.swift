import Foundation

/// RFC 1123 host names and IDNA2008 (RFC 5890-5893) internationalised host names.
enum HostnameFormat {
    /// An ASCII host name whose `xn--` labels are valid A-labels.
    @Sendable static func isHostname(_ s: String) -> Bool {
        if let plain = plainHostname(s) { return plain }
        guard !s.isEmpty, s.utf8.count <= 253, s.utf8.allSatisfy({ $0 < 0x80 }) else { return false }
        let labels = s.split(separator: ".", omittingEmptySubsequences: false)
        var unicodeLabels: [[Unicode.Scalar]] = []
        var hasALabel = false
        for label in labels {
            let bytes = Array(label.utf8)
            guard let u = checkASCIILabel(bytes) else { return false }
            if bytes.count >= 4, bytes[2] == UInt8(ascii: "-"), bytes[3] == UInt8(ascii: "-") { hasALabel = true }
            unicodeLabels.append(u)
        }
        // Plain LDH labels are left-to-right, so the Bidi rule only matters when some label is an A-label.
        return !hasALabel || IDNA.bidiOK(unicodeLabels)
    }

    /// A host name whose labels are ASCII labels or valid U-labels, separated by any IDNA dot.
    @Sendable static func isIDNHostname(_ s: String) -> Bool {
        guard !s.isEmpty else { return false }
        var labels: [[Unicode.Scalar]] = [[]]
        for scalar in s.unicodeScalars {
            if scalar == "." || scalar == "\u{3002}" || scalar == "\u{FF0E}" || scalar == "\u{FF61}" {
                labels.append([])
            } else {
                labels[labels.count - 1].append(scalar)
            }
        }
        var total = labels.count - 1
        var decoded: [[Unicode.Scalar]] = []
        for label in labels {
            if label.allSatisfy(\.isASCII) {
                guard let u = checkASCIILabel(label.map { UInt8($0.value) }) else { return false }
                decoded.append(u)
                total += label.count
            } else {
                guard IDNA.isValidULabel(label) else { return false }
                let aLabel = "xn--" + Punycode.encode(label)
                guard aLabel.utf8.count <= 63 else { return false }
                decoded.append(label)
                total += aLabel.utf8.count
            }
        }
        return total <= 253 && IDNA.bidiOK(decoded)
    }

    /// Allocation-free check for names without `xn--`-style labels; nil when the full check is needed.
    static func plainHostname(_ s: String) -> Bool? {
        var length = 0, labelLength = 0
        var previous: UInt8 = UInt8(ascii: ".")
        for b in s.utf8 {
            length += 1
            if b == UInt8(ascii: ".") {
                guard labelLength > 0, previous != UInt8(ascii: "-") else { return false }
                labelLength = 0
            } else {
                guard Formats.isAlpha(b) || Formats.isDigit(b) || b == UInt8(ascii: "-") else { return false }
                if b == UInt8(ascii: "-") {
                    if labelLength == 0 { return false }
                    if labelLength == 3 && previous == UInt8(ascii: "-") { return nil }
                }
                labelLength += 1
                if labelLength > 63 { return false }
            }
            previous = b
        }
        return length > 0 && length <= 253 && labelLength > 0 && previous != UInt8(ascii: "-")
    }

    /// Checks an LDH label (decoding `xn--` labels); returns its Unicode form.
    static func checkASCIILabel(_ b: [UInt8]) -> [Unicode.Scalar]? {
        guard !b.isEmpty, b.count <= 63, b.first != UInt8(ascii: "-"), b.last != UInt8(ascii: "-") else { return nil }
        for c in b where !(Formats.isAlpha(c) || Formats.isDigit(c) || c == UInt8(ascii: "-")) { return nil }
        if b.count >= 4, b[2] == UInt8(ascii: "-"), b[3] == UInt8(ascii: "-") {
            guard b[0] | 0x20 == UInt8(ascii: "x"), b[1] | 0x20 == UInt8(ascii: "n") else { return nil }
            let encoded = Array(b[4...])
            guard let label = Punycode.decode(encoded), !label.allSatisfy(\.isASCII), IDNA.isValidULabel(label),
                Punycode.encode(label) == String(decoding: encoded, as: UTF8.self).lowercased() else { return nil }
            return label
        }
        return b.map { Unicode.Scalar($0) }
    }
}
