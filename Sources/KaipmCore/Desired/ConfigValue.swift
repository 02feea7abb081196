/// A configuration value: what a plugin's rendered `<id>.config.yaml` holds.
///
/// Maps are kept sorted by key so that rendering, hashing and diffs are canonical.
public indirect enum ConfigValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    /// A non-integer number, kept as its decimal text.
    case number(String)
    case string(String)
    case list([ConfigValue])
    case map([String: ConfigValue])

    /// Converts YAML into a config value.
    public init(_ node: YAMLNode) {
        switch node.value {
        case .null: self = .null
        case let .bool(flag): self = .bool(flag)
        case let .int(number): self = .int(number)
        case let .float(text): self = .number(text)
        case let .string(text): self = .string(text)
        case let .sequence(items): self = .list(items.map(ConfigValue.init))
        case let .mapping(pairs):
            var map = [String: ConfigValue]()
            for pair in pairs { map[pair.key] = ConfigValue(pair.value) }
            self = .map(map)
        }
    }

    /// `other` laid over `self`: maps merge key by key, anything else is replaced.
    public func merged(with other: ConfigValue) -> ConfigValue {
        guard case var .map(base) = self, case let .map(overlay) = other else { return other }
        for (key, value) in overlay {
            base[key] = base[key].map { $0.merged(with: value) } ?? value
        }
        return .map(base)
    }

    /// Leaf values by dotted path (`server.port`), for key-by-key diffs. Lists are leaves.
    public func flattened(prefix: String = "") -> [String: ConfigValue] {
        guard case let .map(map) = self else { return [prefix: self] }
        if map.isEmpty && !prefix.isEmpty { return [prefix: self] }
        var result = [String: ConfigValue]()
        for (key, value) in map {
            let path = prefix.isEmpty ? key : "\(prefix).\(key)"
            result.merge(value.flattened(prefix: path)) { $1 }
        }
        return result
    }

    /// The value as one line of JSON-compatible text, for plans and diffs.
    public var inlineText: String {
        switch self {
        case .null: return "null"
        case let .bool(flag): return flag ? "true" : "false"
        case let .int(number): return String(number)
        case let .number(text): return text
        case let .string(text): return ConfigValue.quote(text)
        case let .list(items): return "[" + items.map(\.inlineText).joined(separator: ", ") + "]"
        case let .map(map):
            return "{" + map.sorted { $0.key < $1.key }.map { "\(ConfigValue.quote($0.key)): \($0.value.inlineText)" }
                .joined(separator: ", ") + "}"
        }
    }

    /// Renders canonical YAML (block mappings, JSON-quoted strings), ending with a newline.
    public func renderYAML() -> String {
        var out = ""
        render(into: &out, indent: 0, inMapping: false)
        if out.isEmpty || !out.hasSuffix("\n") { out += "\n" }
        return out
    }

    private func render(into out: inout String, indent: Int, inMapping: Bool) {
        let pad = String(repeating: "  ", count: indent)
        switch self {
        case let .map(map) where !map.isEmpty:
            if inMapping { out += "\n" }
            for (key, value) in map.sorted(by: { $0.key < $1.key }) {
                out += pad + ConfigValue.quoteKey(key) + ":"
                switch value {
                case .map(let inner) where !inner.isEmpty:
                    value.render(into: &out, indent: indent + 1, inMapping: true)
                case .list(let items) where !items.isEmpty:
                    out += "\n"
                    value.render(into: &out, indent: indent + 1, inMapping: true)
                default:
                    out += " " + value.inlineText + "\n"
                }
            }
        case let .list(items) where !items.isEmpty:
            for item in items {
                out += pad + "- " + item.inlineText + "\n"
            }
        default:
            out += (inMapping ? " " : pad) + inlineText + "\n"
        }
    }

    static func quoteKey(_ key: String) -> String {
        let plain = !key.isEmpty && key.utf8.allSatisfy { c in
            (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c == 0x5f || c == 0x2d
        } && !["true", "false", "null", "yes", "no", "on", "off", "y", "n"].contains(key.lowercased())
        return plain ? key : quote(key)
    }

    /// JSON string quoting, which is also valid double-quoted YAML.
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

extension ConfigValue: Codable {
    /// Decodes natural JSON (`{"a": [1, "x"]}`), the form configs take in the registry and in plans.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let number = try? container.decode(Int.self) {
            self = .int(number)
        } else if let number = try? container.decode(Double.self) {
            self = .number(String(number))
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let items = try? container.decode([ConfigValue].self) {
            self = .list(items)
        } else {
            self = .map(try container.decode([String: ConfigValue].self))
        }
    }

    /// Encodes natural JSON.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case let .bool(flag): try container.encode(flag)
        case let .int(number): try container.encode(number)
        case let .number(text): try container.encode(Double(text) ?? 0)
        case let .string(text): try container.encode(text)
        case let .list(items): try container.encode(items)
        case let .map(map): try container.encode(map)
        }
    }
}
