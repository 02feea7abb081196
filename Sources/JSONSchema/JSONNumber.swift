import Foundation

/// An exact JSON number: integers of any size and decimals without binary rounding.
public struct JSONNumber: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The exact value: a machine integer when it fits, otherwise digits times a power of ten.
    enum Exact: Hashable, Sendable {
        case int(Int64)
        /// `digits` are 0...9 with no leading or trailing zeros, never empty; value = digits × 10^exponent.
        case decimal(negative: Bool, digits: [UInt8], exponent: Int)
    }

    let exact: Exact
    /// The nearest `Double` (infinite when out of range).
    public let doubleValue: Double

    /// Creates a number from a machine integer.
    public init(_ value: Int) {
        exact = .int(Int64(value))
        doubleValue = Double(value)
    }

    /// Creates a number from a `Double` using its shortest round-tripping decimal form; nil for NaN or infinity.
    public init?(_ value: Double) {
        guard value.isFinite else { return nil }
        self.init(parsing: "\(value)")
    }

    /// Creates a number from a Foundation `Decimal`; nil for NaN.
    public init?(_ value: Decimal) {
        guard !value.isNaN else { return nil }
        self.init(parsing: "\(value)")
    }

    /// Parses JSON number text (leniently accepting a leading `+`); nil when it is not a number.
    public init?(parsing text: String) {
        var utf8 = Array(text.utf8)
        if utf8.first == UInt8(ascii: "+") { utf8.removeFirst() }
        guard let parsed = JSONNumber.parse(utf8[...]) else { return nil }
        self = parsed
    }

    init(exact: Exact, doubleValue: Double) {
        self.exact = exact
        self.doubleValue = doubleValue
    }

    /// Parses the bytes of a number in JSON syntax (`-?digits(.digits)?([eE][+-]?digits)?`).
    static func parse(_ bytes: ArraySlice<UInt8>) -> JSONNumber? {
        var i = bytes.startIndex
        let end = bytes.endIndex
        var negative = false
        if i < end, bytes[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        var digits: [UInt8] = []
        var exponent = 0
        var sawDigit = false
        var simple: Int64 = 0
        var simpleOK = true
        while i < end, bytes[i] >= 48, bytes[i] <= 57 {
            let d = bytes[i] - 48
            digits.append(d)
            if simpleOK {
                let (m, o1) = simple.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(Int64(d))
                if o1 || o2 { simpleOK = false } else { simple = s }
            }
            sawDigit = true
            i += 1
        }
        guard sawDigit else { return nil }
        if i == end {
            if simpleOK {
                let v = negative ? -simple : simple
                return JSONNumber(exact: .int(v), doubleValue: Double(v))
            }
        }
        if i < end, bytes[i] == UInt8(ascii: ".") {
            i += 1
            var fractionDigit = false
            while i < end, bytes[i] >= 48, bytes[i] <= 57 {
                digits.append(bytes[i] - 48)
                exponent -= 1
                fractionDigit = true
                i += 1
            }
            guard fractionDigit else { return nil }
        }
        if i < end, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            var expNegative = false
            if i < end, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
                expNegative = bytes[i] == UInt8(ascii: "-")
                i += 1
            }
            var e = 0
            var expDigit = false
            while i < end, bytes[i] >= 48, bytes[i] <= 57 {
                if e < 1_000_000_000_000 { e = e * 10 + Int(bytes[i] - 48) }
                expDigit = true
                i += 1
            }
            guard expDigit else { return nil }
            exponent += expNegative ? -e : e
        }
        guard i == end else { return nil }
        return JSONNumber.make(negative: negative, digits: digits, exponent: exponent)
    }

    /// Normalises digits × 10^exponent into the canonical representation.
    static func make(negative: Bool, digits rawDigits: [UInt8], exponent rawExponent: Int) -> JSONNumber {
        var start = 0
        while start < rawDigits.count, rawDigits[start] == 0 { start += 1 }
        var end = rawDigits.count
        var exponent = rawExponent
        while end > start, rawDigits[end - 1] == 0 { end -= 1; exponent += 1 }
        if start == end { return JSONNumber(exact: .int(0), doubleValue: 0) }
        let digits = Array(rawDigits[start..<end])
        if exponent >= 0, digits.count + exponent <= 19 {
            var value: Int64 = 0
            var overflow = false
            for d in digits + [UInt8](repeating: 0, count: exponent) {
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(Int64(d))
                if o1 || o2 { overflow = true; break }
                value = s
            }
            if !overflow {
                let v = negative ? -value : value
                return JSONNumber(exact: .int(v), doubleValue: Double(v))
            }
        }
        var text = negative ? "-" : ""
        text.unicodeScalars.append(contentsOf: digits.map { Unicode.Scalar($0 + 48) })
        text += "e\(exponent)"
        let double = Double(text) ?? (negative ? -Double.infinity : Double.infinity)
        return JSONNumber(exact: .decimal(negative: negative, digits: digits, exponent: exponent), doubleValue: double)
    }

    /// Whether the number has no fractional part (1.0 counts as an integer).
    public var isInteger: Bool {
        switch exact {
        case .int: return true
        case .decimal(_, _, let exponent): return exponent >= 0
        }
    }

    /// The value as an `Int` when it is an integer that fits.
    public var intValue: Int? {
        if case .int(let v) = exact { return Int(exactly: v) }
        return nil
    }

    /// Sign, digits and exponent of any value (zero has no digits).
    var decimalParts: (negative: Bool, digits: [UInt8], exponent: Int) {
        switch exact {
        case .decimal(let n, let d, let e): return (n, d, e)
        case .int(let v):
            if v == 0 { return (false, [], 0) }
            var magnitude = v.magnitude
            var digits: [UInt8] = []
            var exponent = 0
            while magnitude % 10 == 0 { magnitude /= 10; exponent += 1 }
            while magnitude > 0 { digits.append(UInt8(magnitude % 10)); magnitude /= 10 }
            return (v < 0, digits.reversed(), exponent)
        }
    }

    /// Orders numbers exactly (doubles decide when they differ, since rounding is monotonic).
    public static func < (lhs: JSONNumber, rhs: JSONNumber) -> Bool {
        if lhs.doubleValue != rhs.doubleValue { return lhs.doubleValue < rhs.doubleValue }
        if case .int(let a) = lhs.exact, case .int(let b) = rhs.exact { return a < b }
        return compareExact(lhs, rhs) < 0
    }

    /// Exact three-way comparison of two numbers.
    static func compareExact(_ lhs: JSONNumber, _ rhs: JSONNumber) -> Int {
        let a = lhs.decimalParts, b = rhs.decimalParts
        let aSign = a.digits.isEmpty ? 0 : (a.negative ? -1 : 1)
        let bSign = b.digits.isEmpty ? 0 : (b.negative ? -1 : 1)
        if aSign != bSign { return aSign < bSign ? -1 : 1 }
        if aSign == 0 { return 0 }
        let magnitude = compareMagnitude(a.digits, a.exponent, b.digits, b.exponent)
        return aSign > 0 ? magnitude : -magnitude
    }

    private static func compareMagnitude(_ ad: [UInt8], _ ae: Int, _ bd: [UInt8], _ be: Int) -> Int {
        let aAdjusted = ad.count + ae, bAdjusted = bd.count + be
        if aAdjusted != bAdjusted { return aAdjusted < bAdjusted ? -1 : 1 }
        let n = max(ad.count, bd.count)
        for i in 0..<n {
            let x = i < ad.count ? ad[i] : 0
            let y = i < bd.count ? bd[i] : 0
            if x != y { return x < y ? -1 : 1 }
        }
        return 0
    }

    /// Whether `self` divided by `divisor` (which must be positive) is an integer, computed exactly.
    public func isMultiple(of divisor: JSONNumber) -> Bool {
        if case .int(let a) = exact, case .int(let b) = divisor.exact, b != 0 {
            return a % b == 0
        }
        let x = decimalParts, d = divisor.decimalParts
        if x.digits.isEmpty { return true }
        guard !d.digits.isEmpty else { return false }
        guard d.digits.count <= 19 else {
            let q = doubleValue / divisor.doubleValue
            return q.isFinite && q == q.rounded()
        }
        let dsig = d.digits.reduce(UInt64(0)) { $0 * 10 + UInt64($1) }
        if x.exponent < d.exponent { return false }
        var r: UInt64 = 0
        func step(_ digit: UInt64) {
            let (hi, lo) = r.multipliedFullWidth(by: 10)
            let (sum, carry) = lo.addingReportingOverflow(digit)
            r = dsig.dividingFullWidth((hi + (carry ? 1 : 0), sum)).remainder
        }
        for digit in x.digits { step(UInt64(digit)) }
        let zeros = min(x.exponent - d.exponent, 64)
        for _ in 0..<zeros { step(0) }
        return r == 0
    }

    /// The number in JSON syntax, plain where short and scientific otherwise.
    public var description: String {
        switch exact {
        case .int(let v): return String(v)
        case .decimal(let negative, let digits, let exponent):
            var s = negative ? "-" : ""
            let ds = String(String.UnicodeScalarView(digits.map { Unicode.Scalar($0 + 48) }))
            let adjusted = digits.count + exponent
            if exponent >= 0 && adjusted <= 21 {
                s += ds + String(repeating: "0", count: exponent)
            } else if exponent < 0 && adjusted > 0 {
                s += String(ds.prefix(adjusted)) + "." + String(ds.dropFirst(adjusted))
            } else if exponent < 0 && adjusted > -6 {
                s += "0." + String(repeating: "0", count: -adjusted) + ds
            } else {
                s += String(ds.prefix(1))
                if digits.count > 1 { s += "." + String(ds.dropFirst()) }
                s += "e\(adjusted - 1)"
            }
            return s
        }
    }
}
