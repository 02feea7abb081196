/// A JSON value with object keys in document order: the control protocol, spec and status files.
///
/// KaipmSandbox avoids Foundation so that `kaipm-supervisor` stays small; this is the little JSON
/// it needs. Numbers keep their text, so ids and arguments pass through the supervisor unchanged.
public enum JSON: Sendable, Hashable {
    case null
    case bool(Bool)
    /// A number, as its JSON text.
    case number(String)
    case string(String)
    case array([JSON])
    /// An object, with its keys in order.
    case object([Member])

    /// One key and value of an object.
    public struct Member: Sendable, Hashable {
        public var key: String
        public var value: JSON
        public init(_ key: String, _ value: JSON) {
            self.key = key
            self.value = value
        }
    }

    /// An integer number.
    public static func int<I: BinaryInteger>(_ value: I) -> JSON { .number(String(value)) }

    /// A floating-point number (non-finite values become `null`).
    public static func double(_ value: Double) -> JSON { value.isFinite ? .number(String(value)) : .null }

    /// An object from key-value pairs, dropping pairs whose value is nil.
    public static func object(_ pairs: KeyValuePairs<String, JSON?>) -> JSON {
        .object(pairs.compactMap { pair in pair.value.map { Member(pair.key, $0) } })
    }

    /// The value at `key` of an object, or nil.
    public subscript(key: String) -> JSON? {
        guard case let .object(members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    public var stringValue: String? {
        if case let .string(text) = self { return text }
        return nil
    }

    public var boolValue: Bool? {
        if case let .bool(flag) = self { return flag }
        return nil
    }

    /// The value as an Int when it is an integral number in range.
    public var intValue: Int? {
        guard case let .number(text) = self else { return nil }
        if let value = Int(text) { return value }
        guard let value = Double(text), value.rounded() == value, abs(value) < 9.0e15 else { return nil }
        return Int(value)
    }

    public var uint64Value: UInt64? {
        guard case let .number(text) = self else { return nil }
        if let value = UInt64(text) { return value }
        guard let value = Double(text), value >= 0, value.rounded() == value, value < 1.8e19 else { return nil }
        return UInt64(value)
    }

    public var doubleValue: Double? {
        guard case let .number(text) = self else { return nil }
        return Double(text)
    }

    public var arrayValue: [JSON]? {
        if case let .array(items) = self { return items }
        return nil
    }

    public var objectValue: [Member]? {
        if case let .object(members) = self { return members }
        return nil
    }

    /// Compact JSON text, on one line (a JSON-lines record without its newline).
    public var text: String {
        var out = ""
        write(into: &out)
        return out
    }

    private func write(into out: inout String) {
        switch self {
        case .null: out += "null"
        case let .bool(flag): out += flag ? "true" : "false"
        case let .number(text): out += text
        case let .string(text): JSON.quote(text, into: &out)
        case let .array(items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                item.write(into: &out)
            }
            out += "]"
        case let .object(members):
            out += "{"
            for (index, member) in members.enumerated() {
                if index > 0 { out += "," }
                JSON.quote(member.key, into: &out)
                out += ":"
                member.value.write(into: &out)
            }
            out += "}"
        }
    }

    private static func quote(_ text: String, into out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f || scalar.value == 0x2028 || scalar.value == 0x2029 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
