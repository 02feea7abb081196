import Foundation

/// IDNA2008 code point rules (RFC 5892), contextual rules (appendix A) and the Bidi rule (RFC 5893).
enum IDNA {
    enum Property { case pvalid, contextJ, contextO, disallowed }

    /// The derived property of a code point (RFC 5892 section 3).
    static func property(_ c: Unicode.Scalar) -> Property {
        let v = c.value
        switch v {
        case 0xDF, 0x3C2, 0x6FD, 0x6FE, 0xF0B, 0x3007: return .pvalid
        case 0xB7, 0x375, 0x5F3, 0x5F4, 0x30FB, 0x660...0x669, 0x6F0...0x6F9: return .contextO
        case 0x640, 0x7FA, 0x302E, 0x302F, 0x3031...0x3035, 0x303B: return .disallowed
        case 0x61...0x7A, 0x30...0x39, 0x2D: return .pvalid
        case 0x200C, 0x200D: return .contextJ
        default: break
        }
        let p = c.properties
        if p.generalCategory == .unassigned { return .disallowed }
        if p.changesWhenNFKCCaseFolded { return .disallowed }
        if p.isDefaultIgnorableCodePoint || p.isWhitespace || p.isNoncharacterCodePoint { return .disallowed }
        if (0x20D0...0x20FF).contains(v) || (0x1D100...0x1D24F).contains(v) { return .disallowed }
        if (0x1100...0x11FF).contains(v) || (0xA960...0xA97F).contains(v) || (0xD7B0...0xD7FF).contains(v) { return .disallowed }
        switch p.generalCategory {
        case .lowercaseLetter, .uppercaseLetter, .otherLetter, .decimalNumber, .modifierLetter, .nonspacingMark, .spacingMark:
            return .pvalid
        default:
            return .disallowed
        }
    }

    /// Whether a non-ASCII label is a valid U-label (RFC 5891 section 4.2).
    static func isValidULabel(_ label: [Unicode.Scalar]) -> Bool {
        guard !label.isEmpty else { return false }
        let text = String(String.UnicodeScalarView(label))
        guard Array(text.precomposedStringWithCanonicalMapping.unicodeScalars) == label else { return false }
        if label.count >= 4, label[2] == "-", label[3] == "-" { return false }
        if label.first == "-" || label.last == "-" { return false }
        switch label[0].properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return false
        default: break
        }
        for (i, c) in label.enumerated() {
            switch property(c) {
            case .pvalid: continue
            case .disallowed: return false
            case .contextJ, .contextO: if !contextOK(label, i) { return false }
            }
        }
        return true
    }

    static func isVirama(_ c: Unicode.Scalar) -> Bool { c.properties.canonicalCombiningClass.rawValue == 9 }
    static func isGreek(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        return ((0x370...0x3FF).contains(v) && v != 0x37E && v != 0x387 && v != 0x375) || (0x1F00...0x1FFF).contains(v)
    }
    static func isHebrew(_ c: Unicode.Scalar) -> Bool { (0x591...0x5F4).contains(c.value) || (0xFB1D...0xFB4F).contains(c.value) }
    static func isJapanese(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        return (0x3041...0x3096).contains(v) || (0x309D...0x309F).contains(v) // Hiragana
            || (0x30A1...0x30FA).contains(v) || (0x30FD...0x30FF).contains(v) || (0x31F0...0x31FF).contains(v)
            || (0xFF66...0xFF9D).contains(v) && v != 0xFF70 // Katakana
            || (0x2E80...0x2FDF).contains(v) || v == 0x3005 || v == 0x3007 || (0x3021...0x3029).contains(v)
            || (0x3038...0x303B).contains(v) || (0x3400...0x4DBF).contains(v) || (0x4E00...0x9FFF).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0x20000...0x3FFFF).contains(v) // Han
    }

    /// Arabic joining types for the ZWNJ rule: D (dual), R (right), T (transparent), or nil.
    static func joiningType(_ c: Unicode.Scalar) -> Character? {
        let v = c.value
        switch c.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return v == 0x200C || v == 0x200D ? nil : "T"
        default: break
        }
        let right: [ClosedRange<UInt32>] = [0x622...0x625, 0x627...0x627, 0x629...0x629, 0x62F...0x632, 0x648...0x648,
                                            0x671...0x673, 0x675...0x677, 0x688...0x699, 0x6C0...0x6C0, 0x6C3...0x6CB,
                                            0x6CD...0x6CD, 0x6CF...0x6CF, 0x6D2...0x6D3, 0x6D5...0x6D5, 0x6EE...0x6EF]
        if right.contains(where: { $0.contains(v) }) { return "R" }
        let dual: [ClosedRange<UInt32>] = [0x620...0x620, 0x626...0x626, 0x628...0x628, 0x62A...0x62E, 0x633...0x63F,
                                           0x641...0x647, 0x649...0x64A, 0x66E...0x66F, 0x678...0x687, 0x69A...0x6BF,
                                           0x6C1...0x6C2, 0x6CC...0x6CC, 0x6CE...0x6CE, 0x6D0...0x6D1, 0x6FA...0x6FC,
                                           0x6FF...0x6FF, 0x712...0x72F, 0x74D...0x77F, 0x8A0...0x8C9]
        if dual.contains(where: { $0.contains(v) }) { return "D" }
        return nil
    }

    /// RFC 5892 appendix A rules for the code point at `i`.
    static func contextOK(_ label: [Unicode.Scalar], _ i: Int) -> Bool {
        let c = label[i]
        let before: Unicode.Scalar? = i > 0 ? label[i - 1] : nil
        let after: Unicode.Scalar? = i + 1 < label.count ? label[i + 1] : nil
        switch c.value {
        case 0x200C:
            if let before, isVirama(before) { return true }
            var j = i - 1
            while j >= 0, joiningType(label[j]) == "T" { j -= 1 }
            guard j >= 0, let left = joiningType(label[j]), left == "D" || left == "L" else { return false }
            var k = i + 1
            while k < label.count, joiningType(label[k]) == "T" { k += 1 }
            guard k < label.count, let right = joiningType(label[k]), right == "D" || right == "R" else { return false }
            return true
        case 0x200D:
            return before.map(isVirama) ?? false
        case 0xB7:
            return before == "l" && after == "l"
        case 0x375:
            return after.map(isGreek) ?? false
        case 0x5F3, 0x5F4:
            return before.map(isHebrew) ?? false
        case 0x30FB:
            return label.contains(where: isJapanese)
        case 0x660...0x669:
            return !label.contains { (0x6F0...0x6F9).contains($0.value) }
        case 0x6F0...0x6F9:
            return !label.contains { (0x660...0x669).contains($0.value) }
        default:
            return false
        }
    }
}
