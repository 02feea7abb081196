/// RFC 3492 Punycode, for IDNA A-labels.
enum Punycode {
    static let base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700, initialBias = 72, initialN = 128

    static func adapt(_ delta: Int, _ points: Int, _ first: Bool) -> Int {
        var delta = first ? delta / damp : delta / 2
        delta += delta / points
        var k = 0
        while delta > ((base - tMin) * tMax) / 2 {
            delta /= base - tMin
            k += base
        }
        return k + (base - tMin + 1) * delta / (delta + skew)
    }

    static func threshold(_ k: Int, _ bias: Int) -> Int { k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias) }

    /// Decodes the part after `xn--`; nil when it is not valid Punycode.
    static func decode(_ input: [UInt8]) -> [Unicode.Scalar]? {
        var output: [UInt32] = []
        var pos = 0
        if let dash = input.lastIndex(of: UInt8(ascii: "-")) {
            for b in input[..<dash] {
                guard b < 0x80 else { return nil }
                output.append(UInt32(b))
            }
            pos = dash + 1
        }
        var n = initialN, i = 0, bias = initialBias
        while pos < input.count {
            let oldI = i
            var w = 1
            var k = base
            while true {
                guard pos < input.count else { return nil }
                let c = input[pos]
                pos += 1
                let digit: Int
                switch c {
                case 48...57: digit = Int(c) - 22
                case 65...90: digit = Int(c) - 65
                case 97...122: digit = Int(c) - 97
                default: return nil
                }
                let (product, o1) = digit.multipliedReportingOverflow(by: w)
                let (sum, o2) = i.addingReportingOverflow(product)
                guard !o1, !o2 else { return nil }
                i = sum
                let t = threshold(k, bias)
                if digit < t { break }
                let (nw, o3) = w.multipliedReportingOverflow(by: base - t)
                guard !o3 else { return nil }
                w = nw
                k += base
            }
            bias = adapt(i - oldI, output.count + 1, oldI == 0)
            n += i / (output.count + 1)
            i %= output.count + 1
            guard n <= 0x10FFFF else { return nil }
            output.insert(UInt32(n), at: i)
            i += 1
        }
        var scalars: [Unicode.Scalar] = []
        for v in output {
            guard let s = Unicode.Scalar(v) else { return nil }
            scalars.append(s)
        }
        return scalars
    }

    /// Encodes code points as Punycode (without the `xn--` prefix).
    static func encode(_ input: [Unicode.Scalar]) -> String {
        let values = input.map { Int($0.value) }
        var output = values.filter { $0 < 0x80 }.map { Character(Unicode.Scalar(UInt8($0))) }
        let basic = output.count
        var h = basic
        if basic > 0 { output.append("-") }
        var n = initialN, delta = 0, bias = initialBias
        func digit(_ d: Int) -> Character { Character(Unicode.Scalar(UInt8(d < 26 ? d + 97 : d + 22))) }
        while h < values.count {
            guard let m = values.filter({ $0 >= n }).min() else { break }
            delta += (m - n) * (h + 1)
            n = m
            for c in values {
                if c < n { delta += 1 }
                if c == n {
                    var q = delta
                    var k = base
                    while true {
                        let t = threshold(k, bias)
                        if q < t { break }
                        output.append(digit(t + (q - t) % (base - t)))
                        q = (q - t) / (base - t)
                        k += base
                    }
                    output.append(digit(q))
                    bias = adapt(delta, h + 1, h == basic)
                    delta = 0
                    h += 1
                }
            }
            delta += 1
            n += 1
        }
        return String(output)
    }
}
