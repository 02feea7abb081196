/// Reads a YAML mapping field by field, collecting every problem instead of stopping at the first.
///
/// Each getter records the key as known; `finish()` reports any key that was never asked for as
/// unknown, with a "did you mean" suggestion, because a typo must never pass silently.
public struct MappingReader {
    public let node: YAMLNode
    public let context: String
    private let pairs: [YAMLPair]
    private var known: [String] = []
    /// Every problem found so far.
    public private(set) var diagnostics: [Diagnostic] = []
    let plugin: String?

    /// Starts reading `node`, which must be a mapping; `context` names it in messages ("plugin entry").
    public init(_ node: YAMLNode, context: String, plugin: String? = nil) {
        self.node = node
        self.context = context
        self.plugin = plugin
        if case let .mapping(pairs) = node.value {
            self.pairs = pairs
        } else {
            self.pairs = []
            diagnostics.append(Diagnostic("\(context) must be a mapping, found \(node.typeName)",
                                          at: node.location, plugin: plugin))
        }
    }

    /// Records a problem at a node.
    public mutating func report(_ message: String, at node: YAMLNode, hint: String? = nil) {
        diagnostics.append(Diagnostic(message, at: node.location, plugin: plugin, hint: hint))
    }

    /// Adds diagnostics found by a nested reader.
    public mutating func absorb(_ other: [Diagnostic]) { diagnostics += other }

    /// The raw node under `key`, or nil; marks the key as known.
    public mutating func node(_ key: String) -> YAMLNode? {
        known.append(key)
        return pairs.first(where: { $0.key == key })?.value
    }

    /// A required key; reports it missing.
    public mutating func required(_ key: String, _ what: String) -> YAMLNode? {
        guard let value = node(key), value.value != .null else {
            diagnostics.append(Diagnostic("\(context) is missing '\(key)' (\(what))", at: node.location, plugin: plugin))
            return nil
        }
        return value
    }

    public mutating func string(_ key: String, required isRequired: Bool = false, what: String = "a string") -> String? {
        guard let value = isRequired ? required(key, what) : node(key) else { return nil }
        return string(value, key: key)
    }

    /// A scalar read as a string: ints and floats are accepted as their text (`version: 1.2`).
    public mutating func string(_ value: YAMLNode, key: String) -> String? {
        switch value.value {
        case let .string(text): return text
        case let .int(number): return String(number)
        case let .float(text): return text
        case .null: return nil
        default:
            report("'\(key)' must be a string, found \(value.typeName)", at: value)
            return nil
        }
    }

    public mutating func bool(_ key: String) -> Bool? {
        guard let value = node(key) else { return nil }
        switch value.value {
        case let .bool(flag): return flag
        case .null: return nil
        default:
            report("'\(key)' must be true or false, found \(value.typeName)", at: value)
            return nil
        }
    }

    public mutating func int(_ key: String) -> Int? {
        guard let value = node(key) else { return nil }
        switch value.value {
        case let .int(number): return number
        case .null: return nil
        default:
            report("'\(key)' must be an integer, found \(value.typeName)", at: value)
            return nil
        }
    }

    /// A list of strings; a single string is refused so that `dependsOn: core` is not misread.
    public mutating func strings(_ key: String) -> [String] {
        guard let value = node(key) else { return [] }
        switch value.value {
        case .null: return []
        case let .sequence(items):
            return items.compactMap { item in string(item, key: key) }
        default:
            report("'\(key)' must be a list of strings, found \(value.typeName)", at: value,
                   hint: "write [\(key == "dependsOn" ? "other-plugin" : "value")]")
            return []
        }
    }

    /// A mapping of strings to strings (labels).
    public mutating func stringMap(_ key: String) -> [String: String] {
        guard let value = node(key) else { return [:] }
        switch value.value {
        case .null: return [:]
        case let .mapping(pairs):
            var result = [String: String]()
            for pair in pairs {
                if let text = string(pair.value, key: "\(key).\(pair.key)") { result[pair.key] = text }
            }
            return result
        default:
            report("'\(key)' must be a mapping, found \(value.typeName)", at: value)
            return [:]
        }
    }

    /// A nested mapping reader for `key`, or nil when the key is absent.
    public mutating func mapping(_ key: String) -> MappingReader? {
        guard let value = node(key), value.value != .null else { return nil }
        return MappingReader(value, context: "'\(key)'", plugin: plugin)
    }

    /// Reports every key that no getter asked for, with a suggestion for likely typos.
    public mutating func finish() {
        for pair in pairs where !known.contains(pair.key) {
            var hint: String
            if let suggestion = Spelling.closest(to: pair.key, in: known) {
                hint = "did you mean '\(suggestion)'?"
            } else {
                hint = "known keys: \(known.sorted().joined(separator: ", "))"
            }
            diagnostics.append(Diagnostic("unknown key '\(pair.key)' in \(context)", at: pair.keyLocation,
                                          plugin: plugin, hint: hint))
        }
    }
}

/// Edit distance for "did you mean" suggestions.
public enum Spelling {
    /// The candidate closest to `word`, if it is close enough to be a plausible typo.
    public static func closest(to word: String, in candidates: [String]) -> String? {
        let lowered = word.lowercased()
        var best: (String, Int)?
        for candidate in Set(candidates) {
            let distance = levenshtein(lowered, candidate.lowercased())
            if distance < (best?.1 ?? Int.max) { best = (candidate, distance) }
        }
        guard let best else { return nil }
        let limit = max(1, min(3, word.count / 3 + 1))
        return best.1 <= limit ? best.0 : nil
    }

    static func levenshtein(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8), b = Array(b.utf8)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
