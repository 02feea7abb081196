/// A small backtracking matcher for the common subset of ECMA-262 patterns (literals, classes, groups,
/// alternation, quantifiers, anchors, lookahead); other patterns fall back to Swift `Regex`.
struct FastRegex: Sendable {
    /// One instruction of the matching program.
    enum Instruction: Sendable {
        case scalar(UInt32)
        case set(CharacterSet)
        case any
        case split(Int, Int)
        case jump(Int)
        case start
        case end
        case boundary(Bool)
        case look(Int, negate: Bool)
        case match
    }

    /// A character class: an ASCII bitmap plus ranges and negated groups for other code points.
    struct CharacterSet: Sendable {
        var low: UInt64 = 0
        var high: UInt64 = 0
        var ranges: [ClosedRange<UInt32>] = []
        var negatedGroups: [[ClosedRange<UInt32>]] = []
        var negated = false

        /// Fills the ASCII bitmap from the ranges and groups (call once after building).
        mutating func finish() {
            low = 0
            high = 0
            for c in UInt32(0)..<128 where slowContains(c) {
                if c < 64 { low |= 1 << UInt64(c) } else { high |= 1 << UInt64(c - 64) }
            }
        }

        func slowContains(_ c: UInt32) -> Bool {
            let inside = ranges.contains { $0.contains(c) } || negatedGroups.contains { g in !g.contains { $0.contains(c) } }
            return inside != negated
        }

        @inline(__always) func contains(_ c: UInt32) -> Bool {
            if c < 64 { return low & (1 << UInt64(c)) != 0 }
            if c < 128 { return high & (1 << UInt64(c - 64)) != 0 }
            return slowContains(c)
        }
    }

    let program: [Instruction]
    let lookaheads: [[Instruction]]
    let anchored: Bool

    /// Compiles `source`, or returns nil when it uses syntax this matcher leaves to Swift `Regex`.
    init?(_ source: String) {
        var parser = FastRegexParser(Array(source.unicodeScalars))
        guard let tree = parser.parse() else { return nil }
        var compiler = FastRegexCompiler()
        guard let program = compiler.compile(tree) else { return nil }
        self.program = program
        lookaheads = compiler.lookaheads
        if case .start = program.first { anchored = true } else { anchored = false }
    }

    /// Whether the pattern matches somewhere in `string`; nil when the step budget ran out.
    func matches(_ string: String) -> Bool? {
        var s = string
        return s.withUTF8 { bytes -> Bool? in
            var position = 0
            while position <= bytes.count {
                guard let found = run(program, bytes, position) else { return nil }
                if found { return true }
                if anchored { return false }
                position += 1
                while position < bytes.count, bytes[position] & 0xC0 == 0x80 { position += 1 }
            }
            return false
        }
    }

    @inline(__always) static func decode(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> (UInt32, Int) {
        let b0 = UInt32(p[i])
        if b0 < 0x80 { return (b0, 1) }
        if b0 < 0xE0 { return ((b0 & 0x1F) << 6 | UInt32(p[i + 1] & 0x3F), 2) }
        if b0 < 0xF0 { return ((b0 & 0x0F) << 12 | UInt32(p[i + 1] & 0x3F) << 6 | UInt32(p[i + 2] & 0x3F), 3) }
        return ((b0 & 0x07) << 18 | UInt32(p[i + 1] & 0x3F) << 12 | UInt32(p[i + 2] & 0x3F) << 6 | UInt32(p[i + 3] & 0x3F), 4)
    }

    @inline(__always) static func isWord(_ b: UInt8) -> Bool {
        (b >= 48 && b <= 57) || (b | 0x20 >= 97 && b | 0x20 <= 122) || b == 95
    }

    /// Runs `code` from byte `start` with an explicit backtracking stack.
    func run(_ code: [Instruction], _ p: UnsafeBufferPointer<UInt8>, _ start: Int) -> Bool? {
        var stack: [(Int, Int)] = []
        var pc = 0
        var pos = start
        var steps = 0
        while true {
            steps += 1
            if steps > 200_000 { return nil }
            var ok = true
            switch code[pc] {
            case .scalar(let c):
                if pos < p.count {
                    let (v, n) = FastRegex.decode(p, pos)
                    if v == c { pos += n; pc += 1 } else { ok = false }
                } else { ok = false }
            case .set(let set):
                if pos < p.count {
                    let (v, n) = FastRegex.decode(p, pos)
                    if set.contains(v) { pos += n; pc += 1 } else { ok = false }
                } else { ok = false }
            case .any:
                if pos < p.count {
                    let (v, n) = FastRegex.decode(p, pos)
                    if v != 0x0A && v != 0x0D && v != 0x2028 && v != 0x2029 { pos += n; pc += 1 } else { ok = false }
                } else { ok = false }
            case .split(let first, let second):
                stack.append((second, pos))
                pc = first
            case .jump(let target):
                pc = target
            case .start:
                if pos == 0 { pc += 1 } else { ok = false }
            case .end:
                if pos == p.count { pc += 1 } else { ok = false }
            case .boundary(let wanted):
                let before = pos > 0 && FastRegex.isWord(p[pos - 1])
                let after = pos < p.count && FastRegex.isWord(p[pos])
                if (before != after) == wanted { pc += 1 } else { ok = false }
            case .look(let index, let negate):
                guard let found = run(lookaheads[index], p, pos) else { return nil }
                if found != negate { pc += 1 } else { ok = false }
            case .match:
                return true
            }
            if !ok {
                guard let (nextPC, nextPos) = stack.popLast() else { return false }
                pc = nextPC
                pos = nextPos
            }
        }
    }
}

/// Turns a parsed pattern into `FastRegex` instructions.
struct FastRegexCompiler {
    var lookaheads: [[FastRegex.Instruction]] = []

    mutating func compile(_ node: FastRegexNode) -> [FastRegex.Instruction]? {
        var code: [FastRegex.Instruction] = []
        guard emit(node, &code) else { return nil }
        code.append(.match)
        return code
    }

    mutating func emit(_ node: FastRegexNode, _ code: inout [FastRegex.Instruction]) -> Bool {
        if code.count > 20_000 { return false }
        switch node {
        case .empty: return true
        case .scalar(let c): code.append(.scalar(c))
        case .set(let s): code.append(.set(s))
        case .any: code.append(.any)
        case .start: code.append(.start)
        case .end: code.append(.end)
        case .boundary(let b): code.append(.boundary(b))
        case .concat(let parts):
            for part in parts where !emit(part, &code) { return false }
        case .alternation(let options):
            var jumps: [Int] = []
            for (i, option) in options.enumerated() {
                if i < options.count - 1 {
                    let split = code.count
                    code.append(.match)
                    guard emit(option, &code) else { return false }
                    jumps.append(code.count)
                    code.append(.match)
                    code[split] = .split(split + 1, code.count)
                } else {
                    guard emit(option, &code) else { return false }
                }
            }
            for j in jumps { code[j] = .jump(code.count) }
        case .look(let inner, let negate):
            guard let sub = compile(inner) else { return false }
            lookaheads.append(sub)
            code.append(.look(lookaheads.count - 1, negate: negate))
        case .repeatNode(let inner, let min, let max, let greedy):
            for _ in 0..<min where !emit(inner, &code) { return false }
            if let max {
                var splits: [Int] = []
                for _ in min..<max {
                    splits.append(code.count)
                    code.append(.match)
                    guard emit(inner, &code) else { return false }
                }
                for s in splits { code[s] = greedy ? .split(s + 1, code.count) : .split(code.count, s + 1) }
            } else {
                let loop = code.count
                code.append(.match)
                guard emit(inner, &code) else { return false }
                code.append(.jump(loop))
                code[loop] = greedy ? .split(loop + 1, code.count) : .split(code.count, loop + 1)
            }
        }
        return true
    }
}
