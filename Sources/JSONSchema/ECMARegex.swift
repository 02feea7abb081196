/// An ECMA-262 (unicode mode) regular expression, translated to Swift `Regex` and compiled once.
struct ECMARegex: @unchecked Sendable {
    /// The pattern as written in the schema.
    let source: String
    /// The translated, compiled expression (immutable after creation; `Regex` is a value type).
    let regex: Regex<AnyRegexOutput>
    /// The fast matcher, when the pattern is within its subset.
    let fast: FastRegex?

    /// ECMA-262 `\s`: WhiteSpace and LineTerminator code points, as class ranges.
    static let whitespaceRanges =
        "\\t\\n\\u{0B}\\f\\r \\u{A0}\\u{1680}\\u{2000}\\u{2001}\\u{2002}\\u{2003}\\u{2004}\\u{2005}\\u{2006}\\u{2007}\\u{2008}\\u{2009}\\u{200A}\\u{2028}\\u{2029}\\u{202F}\\u{205F}\\u{3000}\\u{FEFF}"

    /// A problem in a pattern.
    struct SyntaxError: Error, Sendable { let message: String }

    /// Translates and compiles `source`; throws `SyntaxError` when it is not a valid ECMA-262 pattern.
    init(_ source: String) throws {
        self.source = source
        fast = FastRegex(source)
        let translated = try ECMARegex.translate(source)
        do {
            regex = try Regex(translated)
                .matchingSemantics(.unicodeScalar)
                .asciiOnlyDigits()
                .asciiOnlyWordCharacters()
                .wordBoundaryKind(.simple)
        } catch {
            throw SyntaxError(message: "invalid regular expression \(source): \(error)")
        }
    }

    /// Whether the pattern matches somewhere in `string` (patterns are not implicitly anchored).
    func matches(_ string: String) -> Bool {
        if let fast, let result = fast.matches(string) { return result }
        return ((try? regex.firstMatch(in: string)) ?? nil) != nil
    }

    /// Rewrites ECMA-262 syntax into the Swift regex dialect, rejecting what ECMA-262 forbids.
    static func translate(_ source: String) throws -> String {
        let s = Array(source.unicodeScalars)
        var out = ""
        var i = 0
        var inClass = false
        func fail(_ why: String) -> SyntaxError { SyntaxError(message: "invalid regular expression \(source): \(why)") }
        func hex(_ v: UInt32) -> String { "\\u{" + String(v, radix: 16) + "}" }
        func isHex(_ c: Unicode.Scalar) -> Bool { c.properties.isASCIIHexDigit }
        while i < s.count {
            let c = s[i]
            if c == "\\" {
                guard i + 1 < s.count else { throw fail("trailing backslash") }
                let e = s[i + 1]
                i += 2
                switch e {
                case "d", "D", "w", "W", "b", "B", "n", "r", "t", "f":
                    out += "\\" + String(e)
                case "s": out += inClass ? whitespaceRanges : "[" + whitespaceRanges + "]"
                case "S": out += "[^" + whitespaceRanges + "]"
                case "v": out += "\\u{0B}"
                case "0": out += "\\u{0}"
                case "c":
                    guard i < s.count, s[i].properties.isAlphabetic, s[i].isASCII else { throw fail("invalid \\c escape") }
                    out += hex(s[i].value % 32)
                    i += 1
                case "x":
                    guard i + 1 < s.count, isHex(s[i]), isHex(s[i + 1]) else { throw fail("invalid \\x escape") }
                    out += "\\x" + String(s[i]) + String(s[i + 1])
                    i += 2
                case "u":
                    if i < s.count, s[i] == "{" {
                        guard let close = s[i...].firstIndex(of: "}") else { throw fail("invalid \\u{} escape") }
                        out += "\\u" + String(String.UnicodeScalarView(s[i...close]))
                        i = close + 1
                    } else {
                        guard i + 3 < s.count, s[i..<(i + 4)].allSatisfy(isHex) else { throw fail("invalid \\u escape") }
                        var v = UInt32(String(String.UnicodeScalarView(s[i..<(i + 4)])), radix: 16) ?? 0
                        i += 4
                        if (0xD800..<0xDC00).contains(v), i + 5 < s.count, s[i] == "\\", s[i + 1] == "u",
                            let low = UInt32(String(String.UnicodeScalarView(s[(i + 2)..<(i + 6)])), radix: 16),
                            (0xDC00..<0xE000).contains(low)
                        {
                            v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                            i += 6
                        }
                        out += hex(v)
                    }
                case "p", "P":
                    guard i < s.count, s[i] == "{", let close = s[i...].firstIndex(of: "}") else {
                        throw fail("invalid property escape")
                    }
                    out += "\\" + String(e) + String(String.UnicodeScalarView(s[i...close]))
                    i = close + 1
                case "k":
                    guard i < s.count, s[i] == "<" else { throw fail("invalid \\k escape") }
                    out += "\\k"
                case "1"..."9":
                    out += "\\" + String(e)
                default:
                    if e.properties.isAlphabetic || e.properties.numericType != nil {
                        throw fail("invalid escape \\\(e)")
                    }
                    out += "\\" + String(e)
                }
                continue
            }
            if inClass {
                switch c {
                case "]": inClass = false; out += "]"
                case "[", "&", "~": out += "\\" + String(c)
                default: out.unicodeScalars.append(c)
                }
                i += 1
                continue
            }
            switch c {
            case "[":
                if i + 2 < s.count + 1, i + 1 < s.count, s[i + 1] == "]" {
                    out += "(?!)"
                    i += 2
                    continue
                }
                if i + 2 < s.count, s[i + 1] == "^", s[i + 2] == "]" {
                    out += "[\\s\\S]"
                    i += 3
                    continue
                }
                inClass = true
                out += "["
                if i + 1 < s.count, s[i + 1] == "^" { out += "^"; i += 1 }
            case ".":
                out += "[^\\n\\r\\u{2028}\\u{2029}]"
            case "$":
                out += "\\z"
            case "(":
                if i + 1 < s.count, s[i + 1] == "?" {
                    guard i + 2 < s.count else { throw fail("unterminated group") }
                    let k = s[i + 2]
                    if k == "<", i + 3 < s.count, s[i + 3] == "=" || s[i + 3] == "!" || s[i + 3].properties.isAlphabetic {
                        out += "("
                    } else if k == ":" || k == "=" || k == "!" {
                        out += "("
                    } else {
                        throw fail("unsupported group syntax (?\(k)")
                    }
                } else {
                    out += "("
                }
            default:
                out.unicodeScalars.append(c)
            }
            i += 1
        }
        if inClass { throw fail("unterminated character class") }
        return out
    }
}
