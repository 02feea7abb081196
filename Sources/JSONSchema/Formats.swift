/// The format checks by name.
enum Formats {
    /// Checkers for every supported format.
    static let checkers: [String: @Sendable (String) -> Bool] = [
        "date-time": DateTimeFormats.isDateTime,
        "date": DateTimeFormats.isDate,
        "time": DateTimeFormats.isTime,
        "duration": DateTimeFormats.isDuration,
        "email": { EmailFormat.isEmail($0, international: false) },
        "idn-email": { EmailFormat.isEmail($0, international: true) },
        "hostname": HostnameFormat.isHostname,
        "idn-hostname": HostnameFormat.isIDNHostname,
        "ipv4": NetworkFormats.isIPv4,
        "ipv6": NetworkFormats.isIPv6,
        "uri": { URIFormats.isURI($0, requireScheme: true, iri: false) },
        "uri-reference": { URIFormats.isURI($0, requireScheme: false, iri: false) },
        "iri": { URIFormats.isURI($0, requireScheme: true, iri: true) },
        "iri-reference": { URIFormats.isURI($0, requireScheme: false, iri: true) },
        "uri-template": URIFormats.isURITemplate,
        "uuid": MiscFormats.isUUID,
        "regex": MiscFormats.isRegex,
        "json-pointer": MiscFormats.isJSONPointer,
        "relative-json-pointer": MiscFormats.isRelativeJSONPointer,
    ]

    /// Whether `b` is an ASCII digit.
    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
    /// Whether `b` is an ASCII letter.
    @inline(__always) static func isAlpha(_ b: UInt8) -> Bool { (b | 0x20) >= 97 && (b | 0x20) <= 122 }
    /// Whether `b` is an ASCII hex digit.
    @inline(__always) static func isHex(_ b: UInt8) -> Bool { isDigit(b) || ((b | 0x20) >= 97 && (b | 0x20) <= 102) }
}

/// RFC 3339 dates and times, and ISO 8601 durations as profiled by RFC 3339 appendix A.
enum DateTimeFormats {
    /// Parses exactly `count` ASCII digits at `i`.
    static func number(_ b: [UInt8], _ i: Int, _ count: Int) -> Int? {
        guard i + count <= b.count else { return nil }
        var v = 0
        for k in i..<(i + count) {
            guard Formats.isDigit(b[k]) else { return nil }
            v = v * 10 + Int(b[k] - 48)
        }
        return v
    }

    static func isLeapYear(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    static func checkDate(_ b: [UInt8]) -> Bool {
        guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            let y = number(b, 0, 4), let m = number(b, 5, 2), let d = number(b, 8, 2), (1...12).contains(m) else { return false }
        let days = [31, isLeapYear(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return d >= 1 && d <= days[m - 1]
    }

    static func checkTime(_ b: [UInt8]) -> Bool {
        guard b.count >= 9, b[2] == UInt8(ascii: ":"), b[5] == UInt8(ascii: ":"),
            let h = number(b, 0, 2), let m = number(b, 3, 2), let s = number(b, 6, 2),
            h < 24, m < 60, s <= 60 else { return false }
        var i = 8
        if b[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < b.count, Formats.isDigit(b[i]) { i += 1 }
            guard i > start else { return false }
        }
        guard i < b.count else { return false }
        var offset = 0
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            guard i + 1 == b.count else { return false }
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            guard i + 6 == b.count, b[i + 3] == UInt8(ascii: ":"), let oh = number(b, i + 1, 2), let om = number(b, i + 4, 2),
                oh < 24, om < 60 else { return false }
            offset = (oh * 60 + om) * (b[i] == UInt8(ascii: "+") ? 1 : -1)
        } else {
            return false
        }
        if s == 60 {
            let utc = ((h * 60 + m - offset) % 1440 + 1440) % 1440
            return utc == 23 * 60 + 59
        }
        return true
    }

    @Sendable static func isDate(_ s: String) -> Bool { checkDate(Array(s.utf8)) }
    @Sendable static func isTime(_ s: String) -> Bool { checkTime(Array(s.utf8)) }

    @Sendable static func isDateTime(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count > 11, b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t") else { return false }
        return checkDate(Array(b[0..<10])) && checkTime(Array(b[11...]))
    }

    @Sendable static func isDuration(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.first == UInt8(ascii: "P"), b.count > 1 else { return false }
        var i = 1
        var datePart: [UInt8] = []
        var timePart: [UInt8] = []
        var inTime = false
        while i < b.count {
            if b[i] == UInt8(ascii: "T") {
                guard !inTime else { return false }
                inTime = true
                i += 1
                continue
            }
            let start = i
            while i < b.count, Formats.isDigit(b[i]) { i += 1 }
            guard i > start, i < b.count else { return false }
            if inTime { timePart.append(b[i]) } else { datePart.append(b[i]) }
            i += 1
        }
        if inTime && timePart.isEmpty { return false }
        if datePart.isEmpty && timePart.isEmpty { return false }
        func contiguous(_ parts: [UInt8], _ order: [UInt8]) -> Bool {
            guard !parts.isEmpty else { return true }
            guard let first = order.firstIndex(of: parts[0]), first + parts.count <= order.count else { return false }
            return Array(order[first..<(first + parts.count)]) == parts
        }
        if datePart == [UInt8(ascii: "W")] { return timePart.isEmpty }
        return contiguous(datePart, Array("YMD".utf8)) && contiguous(timePart, Array("HMS".utf8))
    }
}
