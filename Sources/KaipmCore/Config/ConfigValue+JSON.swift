import JSONSchema

extension ConfigValue {
    /// The value as a JSON Schema instance, built node by node (no text round trip).
    ///
    /// Map keys are sorted so that error order is stable. A YAML float JSON cannot hold
    /// (`.inf`, `.nan`) becomes its text, so that a schema asking for a number rejects it.
    public var jsonValue: JSONValue {
        switch self {
        case .null: return .null
        case let .bool(flag): return .bool(flag)
        case let .int(number): return .number(JSONNumber(number))
        case let .number(text): return JSONValue.number(fromYAML: text)
        case let .string(text): return .string(text)
        case let .list(items): return .array(items.map(\.jsonValue))
        case let .map(map):
            return .object(JSONObject(map.sorted { $0.key < $1.key }.map { ($0.key, $0.value.jsonValue) }))
        }
    }

    /// Converts a JSON value into a config value; integers that fit an `Int` stay integers.
    public init(json: JSONValue) {
        switch json {
        case .null: self = .null
        case let .bool(flag): self = .bool(flag)
        case let .number(number):
            if let int = number.intValue { self = .int(int) } else { self = .number(number.description) }
        case let .string(text): self = .string(text)
        case let .array(items): self = .list(items.map(ConfigValue.init(json:)))
        case let .object(object):
            var map: [String: ConfigValue] = [:]
            for (key, value) in object { map[key] = ConfigValue(json: value) }
            self = .map(map)
        }
    }
}

extension YAMLNode {
    /// The node as a JSON Schema instance, keeping the mapping's key order.
    public var jsonValue: JSONValue {
        switch value {
        case .null: return .null
        case let .bool(flag): return .bool(flag)
        case let .int(number): return .number(JSONNumber(number))
        case let .float(text): return JSONValue.number(fromYAML: text)
        case let .string(text): return .string(text)
        case let .sequence(items): return .array(items.map(\.jsonValue))
        case let .mapping(pairs): return .object(JSONObject(pairs.map { ($0.key, $0.value.jsonValue) }))
        }
    }
}

extension JSONValue {
    /// A YAML 1.2 float's text as an exact JSON number (`1.`, `.5`, `+2e3` included), or the
    /// text itself for the infinities and NaN, which JSON has no number for.
    static func number(fromYAML text: String) -> JSONValue {
        var digits = Substring(text)
        var sign = ""
        if let first = digits.first, first == "+" || first == "-" {
            if first == "-" { sign = "-" }
            digits = digits.dropFirst()
        }
        var normalized = String(digits)
        if normalized.hasPrefix(".") { normalized = "0" + normalized }
        if let dot = normalized.firstIndex(of: ".") {
            let after = normalized.index(after: dot)
            if after == normalized.endIndex || !normalized[after].isNumber {
                normalized.insert("0", at: after)
            }
        }
        if let number = JSONNumber(parsing: sign + normalized) { return .number(number) }
        return .string(text)
    }
}
