/// The RFC 5893 Bidi rule, with bidi classes approximated from code point ranges and general categories.
extension IDNA {
    enum BidiClass { case l, r, al, an, en, es, cs, et, on, bn, nsm }

    static func bidiClass(_ c: Unicode.Scalar) -> BidiClass {
        let v = c.value
        let category = c.properties.generalCategory
        if category == .nonspacingMark || category == .enclosingMark { return .nsm }
        switch v {
        case 0x30...0x39, 0x6F0...0x6F9, 0xB2, 0xB3, 0xB9, 0x2070...0x2079, 0x2080...0x2089: return .en
        case 0x660...0x669, 0x66B, 0x66C, 0x600...0x605, 0x6DD, 0x8E2: return .an
        case 0x2B, 0x2D: return .es
        case 0x2C, 0x2E, 0x2F, 0x3A, 0xA0: return .cs
        case 0x23...0x25, 0xA2...0xA5, 0xB0, 0xB1: return .et
        default: break
        }
        if (0x590...0x5FF).contains(v) || (0x7C0...0x85F).contains(v) || (0xFB1D...0xFB4F).contains(v)
            || (0x10800...0x10FFF).contains(v) || (0x1E800...0x1EDFF).contains(v)
        {
            return .r
        }
        if (0x600...0x7BF).contains(v) || (0x860...0x8FF).contains(v) || (0xFB50...0xFDFF).contains(v)
            || (0xFE70...0xFEFF).contains(v) || (0x1EE00...0x1EEFF).contains(v)
        {
            return .al
        }
        switch category {
        case .control, .format: return .bn
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .otherLetter, .modifierLetter, .spacingMark,
            .decimalNumber, .letterNumber:
            return .l
        default: return .on
        }
    }

    /// Whether a domain satisfies the Bidi rule (only checked when some label is right-to-left).
    static func bidiOK(_ labels: [[Unicode.Scalar]]) -> Bool {
        let isBidiDomain = labels.contains { $0.contains { [.r, .al, .an].contains(bidiClass($0)) } }
        guard isBidiDomain else { return true }
        for label in labels where !label.isEmpty {
            let classes = label.map(bidiClass)
            guard let first = classes.first else { continue }
            let trimmed = classes.reversed().drop { $0 == .nsm }
            guard let last = trimmed.first else { return false }
            switch first {
            case .r, .al:
                let allowed: Set<BidiClass> = [.r, .al, .an, .en, .es, .cs, .et, .on, .bn, .nsm]
                guard classes.allSatisfy(allowed.contains), [.r, .al, .en, .an].contains(last) else { return false }
                if classes.contains(.en) && classes.contains(.an) { return false }
            case .l:
                let allowed: Set<BidiClass> = [.l, .en, .es, .cs, .et, .on, .bn, .nsm]
                guard classes.allSatisfy(allowed.contains), last == .l || last == .en else { return false }
            default:
                return false
            }
        }
        return true
    }
}
