/// The syntax tree of a pattern for `FastRegex`.
indirect enum FastRegexNode {
    case empty
    case scalar(UInt32)
    case set(FastRegex.CharacterSet)
    case any
    case start
    case end
    case boundary(Bool)
    case concat([FastRegexNode])
    case alternation([FastRegexNode])
    case look(FastRegexNode, negate: Bool)
    case repeatNode(FastRegexNode, min: Int, max: Int?, greedy: Bool)
}

/// Parses the ECMA-262 subset `FastRegex` supports; nil for anything else.
struct FastRegexParser {
    let s: [Unicode.Scalar]
    var i = 0

    init(_ s: [Unicode.Scalar]) { self.s = s }

    static let digits: [ClosedRange<UInt32>] = [48...57]
    static let word: [ClosedRange<UInt32>] = [48...57, 65...90, 95...95, 97...122]
    static let space: [ClosedRange<UInt32>] = [9...13, 32...32, 0xA0...0xA0, 0x1680...0x1680, 0x2000...0x200A,
                                                0x2028...0x2029, 0x202F...0x202F, 0x205F...0x205F, 0x3000...0x3000, 0xFEFF...0xFEFF]

    mutating func parse() -> FastRegexNode? {
        guard let node = parseAlternation(), i == s.count else { return nil }
        return node
    }

    var peek: Unicode.Scalar? { i < s.count ? s[i] : nil }

    mutating func parseAlternation() -> FastRegexNode? {
        var options: [FastRegexNode] = []
        while true {
            guard let c = parseConcat() else { return nil }
            options.append(c)
            if peek == "|" { i += 1 } else { break }
        }
        return options.count == 1 ? options[0] : .alternation(options)
    }

    mutating func parseConcat() -> FastRegexNode? {
        var parts: [FastRegexNode] = []
        while let c = peek, c != "|", c != ")" {
            guard let atom = parseAtom() else { return nil }
            guard let quantified = parseQuantifier(atom) else { return nil }
            parts.append(quantified)
        }
        return parts.isEmpty ? .empty : (parts.count == 1 ? parts[0] : .concat(parts))
    }

    mutating func number() -> Int? {
        var v = 0
        let start = i
        while let c = peek, c.isASCII, c.properties.numericType != nil {
            v = v * 10 + Int(c.value - 48)
            if v > 100_000 { return nil }
            i += 1
        }
        return i > start ? v : nil
    }

    mutating func parseQuantifier(_ atom: FastRegexNode) -> FastRegexNode? {
        guard let c = peek else { return atom }
        var min = 0
        var max: Int?
        switch c {
        case "*": i += 1
        case "+": i += 1; min = 1
        case "?": i += 1; max = 1
        case "{":
            i += 1
            guard let lower = number() else { return nil }
            min = lower
            max = lower
            if peek == "," {
                i += 1
                max = peek == "}" ? nil : number()
                if max == nil && peek != "}" { return nil }
            }
            guard peek == "}" else { return nil }
            i += 1
            if let max, max < min { return nil }
        default:
            return atom
        }
        switch atom {
        case .start, .end, .boundary, .look: return nil
        default: break
        }
        var greedy = true
        if peek == "?" { greedy = false; i += 1 }
        if let next = peek, next == "*" || next == "+" || next == "?" || next == "{" { return nil }
        return .repeatNode(atom, min: min, max: max, greedy: greedy)
    }

    static func set(_ ranges: [ClosedRange<UInt32>], negated: Bool) -> FastRegexNode {
        var set = FastRegex.CharacterSet()
        set.ranges = ranges
        set.negated = negated
        set.finish()
        return .set(set)
    }

    mutating func parseAtom() -> FastRegexNode? {
        guard let c = peek else { return nil }
        i += 1
        switch c {
        case "(":
            var node: FastRegexNode?
            if peek == "?" {
                guard i + 1 < s.count else { return nil }
                let kind = s[i + 1]
                i += 2
                guard kind == ":" || kind == "=" || kind == "!" else { return nil }
                guard let inner = parseAlternation() else { return nil }
                node = kind == ":" ? inner : .look(inner, negate: kind == "!")
            } else {
                node = parseAlternation()
            }
            guard peek == ")" else { return nil }
            i += 1
            return node
        case "[": return parseClass()
        case ".": return .any
        case "^": return .start
        case "$": return .end
        case "\\":
            guard let e = peek else { return nil }
            i += 1
            switch e {
            case "d": return Self.set(Self.digits, negated: false)
            case "D": return Self.set(Self.digits, negated: true)
            case "w": return Self.set(Self.word, negated: false)
            case "W": return Self.set(Self.word, negated: true)
            case "s": return Self.set(Self.space, negated: false)
            case "S": return Self.set(Self.space, negated: true)
            case "b": return .boundary(true)
            case "B": return .boundary(false)
            default:
                guard let v = escapedScalar(e) else { return nil }
                return .scalar(v)
            }
        case "*", "+", "?", "{", "}", "]", ")", "|":
            return nil
        default:
            return .scalar(c.value)
        }
    }

    /// The code point of a single-character escape (after the backslash), or nil if unsupported here.
    mutating func escapedScalar(_ e: Unicode.Scalar) -> UInt32? {
        switch e {
        case "n": return 10
        case "r": return 13
        case "t": return 9
        case "f": return 12
        case "v": return 11
        case "0": return peek.map { $0.properties.numericType == nil } ?? true ? 0 : nil
        case "x":
            guard i + 2 <= s.count, let v = UInt32(String(String.UnicodeScalarView(s[i..<(i + 2)])), radix: 16) else { return nil }
            i += 2
            return v
        case "u":
            if peek == "{" {
                guard let close = s[i...].firstIndex(of: "}"),
                    let v = UInt32(String(String.UnicodeScalarView(s[(i + 1)..<close])), radix: 16) else { return nil }
                i = close + 1
                return v
            }
            guard i + 4 <= s.count, let v = UInt32(String(String.UnicodeScalarView(s[i..<(i + 4)])), radix: 16),
                !(0xD800..<0xE000).contains(v) else { return nil }
            i += 4
            return v
        default:
            guard "^$\\.*+?()[]{}|/-".unicodeScalars.contains(e) else { return nil }
            return e.value
        }
    }

    mutating func parseClass() -> FastRegexNode? {
        var set = FastRegex.CharacterSet()
        if peek == "^" { set.negated = true; i += 1 }
        while let c = peek, c != "]" {
            i += 1
            var low: UInt32
            if c == "\\" {
                guard let e = peek else { return nil }
                i += 1
                switch e {
                case "d": set.ranges += Self.digits; continue
                case "w": set.ranges += Self.word; continue
                case "s": set.ranges += Self.space; continue
                case "D": set.negatedGroups.append(Self.digits); continue
                case "W": set.negatedGroups.append(Self.word); continue
                case "S": set.negatedGroups.append(Self.space); continue
                case "b": low = 8
                default:
                    guard let v = escapedScalar(e) else { return nil }
                    low = v
                }
            } else if c == "[" {
                return nil
            } else {
                low = c.value
            }
            if peek == "-", i + 1 < s.count, s[i + 1] != "]" {
                i += 1
                guard let h = peek else { return nil }
                i += 1
                var high: UInt32
                if h == "\\" {
                    guard let e = peek else { return nil }
                    i += 1
                    guard let v = escapedScalar(e) else { return nil }
                    high = v
                } else {
                    high = h.value
                }
                guard low <= high else { return nil }
                set.ranges.append(low...high)
            } else {
                set.ranges.append(low...low)
            }
        }
        guard peek == "]" else { return nil }
        i += 1
        set.finish()
        return .set(set)
    }
}
