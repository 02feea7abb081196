import Yams

/// A parsed YAML node with its position, in a Sendable form the core can keep.
///
/// Scalars are resolved with the YAML 1.2 core schema (so `no`, `on` and `yes` stay strings,
/// unlike YAML 1.1), aliases are expanded under a node budget, and duplicate keys are errors.
public struct YAMLNode: Sendable, Hashable {
    /// The shape of a node.
    public indirect enum Value: Sendable, Hashable {
        case null
        case bool(Bool)
        case int(Int)
        /// A float kept as its source text, so that values round-trip exactly.
        case float(String)
        case string(String)
        case sequence([YAMLNode])
        case mapping([YAMLPair])
    }

    public var value: Value
    public var location: SourceLocation

    public init(_ value: Value, at location: SourceLocation) {
        self.value = value
        self.location = location
    }

    /// A short name of the node's type for messages: "a mapping", "a string".
    public var typeName: String {
        switch value {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int: return "an integer"
        case .float: return "a number"
        case .string: return "a string"
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        }
    }
}

/// One key and value of a YAML mapping.
public struct YAMLPair: Sendable, Hashable {
    public var key: String
    public var keyLocation: SourceLocation
    public var value: YAMLNode

    public init(key: String, keyLocation: SourceLocation, value: YAMLNode) {
        self.key = key
        self.keyLocation = keyLocation
        self.value = value
    }
}

/// Parses YAML documents into `YAMLNode`s with errors that name file, line and column.
public enum YAMLDocument {
    /// The most nodes a document may expand to, aliases included. A billion-laughs document
    /// reaches it after a few levels and is refused instead of exhausting memory.
    public static let defaultNodeBudget = 100_000
    /// The largest desired-state file accepted, in bytes.
    public static let maxBytes = 4 << 20

    /// Parses one YAML document. An empty document is `.null` at line 1.
    public static func parse(_ bytes: [UInt8], file: String, nodeBudget: Int = defaultNodeBudget) throws(Diagnostic) -> YAMLNode {
        guard bytes.count <= maxBytes else {
            throw Diagnostic("file is \(bytes.count) bytes, more than the \(maxBytes) allowed",
                             at: SourceLocation(file: file), hint: "split it or remove what is not needed")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw Diagnostic("file is not valid UTF-8", at: SourceLocation(file: file), hint: "save it as UTF-8")
        }
        let root: Node?
        do {
            // An explicit encoding: the default one reads the process environment on every call.
            let parser = try Parser(yaml: text, resolver: .basic, encoding: .utf8)
            root = try parser.singleRoot()
        } catch let YamlError.duplicatedKeysInMapping(duplicates, context) {
            let key = duplicates.sorted().first ?? "?"
            throw Diagnostic("duplicate key '\(key)'", at: secondOccurrence(of: key, in: text, file: file) ?? location(context.mark, file),
                             hint: "a key may appear once in a mapping; remove one")
        } catch let error as YamlError {
            throw diagnostic(for: error, file: file)
        } catch {
            throw Diagnostic("cannot parse YAML: \(error)", at: SourceLocation(file: file, line: 1, column: 1))
        }
        guard let root else { return YAMLNode(.null, at: SourceLocation(file: file, line: 1, column: 1)) }
        var budget = nodeBudget
        return try convert(root, file: file, budget: &budget)
    }

    private static func diagnostic(for error: YamlError, file: String) -> Diagnostic {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            var message = "invalid YAML: \(problem)"
            if let context { message += " \(context.text)" }
            return Diagnostic(message, at: SourceLocation(file: file, line: mark.line, column: mark.column),
                              hint: "fix the YAML syntax at this position")
        case let .reader(problem, _, _, _):
            return Diagnostic("cannot read YAML: \(problem)", at: SourceLocation(file: file, line: 1, column: 1))
        default:
            return Diagnostic("invalid YAML: \(error)", at: SourceLocation(file: file, line: 1, column: 1))
        }
    }

    /// Where `key:` appears the second time, for a duplicate-key message (libyaml reports the mapping).
    private static func secondOccurrence(of key: String, in text: String, file: String) -> SourceLocation? {
        var seen = 0
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.drop(while: { $0 == " " || $0 == "-" })
            if trimmed.hasPrefix(key + ":") || trimmed.hasPrefix("\"\(key)\":") {
                seen += 1
                if seen == 2 { return SourceLocation(file: file, line: index + 1, column: line.count - trimmed.count + 1) }
            }
        }
        return nil
    }

    private static func location(_ mark: Mark?, _ file: String) -> SourceLocation {
        SourceLocation(file: file, line: mark?.line ?? 0, column: mark?.column ?? 0)
    }

    private static func convert(_ node: Node, file: String, budget: inout Int) throws(Diagnostic) -> YAMLNode {
        budget -= 1
        if budget < 0 {
            throw Diagnostic("document expands to more than \(defaultNodeBudget) nodes (aliases included)",
                             at: location(node.mark, file),
                             hint: "YAML aliases that multiply are refused; write the values out")
        }
        switch node {
        case let .scalar(scalar):
            return YAMLNode(resolve(scalar), at: location(scalar.mark, file))
        case let .sequence(sequence):
            var items = [YAMLNode]()
            items.reserveCapacity(sequence.count)
            for item in sequence { items.append(try convert(item, file: file, budget: &budget)) }
            return YAMLNode(.sequence(items), at: location(sequence.mark, file))
        case let .mapping(mapping):
            var pairs = [YAMLPair]()
            pairs.reserveCapacity(mapping.count)
            var seen = Set<String>()
            for (key, value) in mapping {
                let keyLocation = location(key.mark, file)
                guard case let .scalar(keyScalar) = key else {
                    throw Diagnostic("a mapping key must be a plain string, not a \(key.mapping != nil ? "mapping" : "list")",
                                     at: keyLocation)
                }
                if keyScalar.string == "<<" && keyScalar.style == .plain {
                    throw Diagnostic("YAML merge keys ('<<') are not supported", at: keyLocation,
                                     hint: "write the keys out")
                }
                guard seen.insert(keyScalar.string).inserted else {
                    throw Diagnostic("duplicate key '\(keyScalar.string)'", at: keyLocation,
                                     hint: "a key may appear once in a mapping; remove one")
                }
                let converted = try convert(value, file: file, budget: &budget)
                pairs.append(YAMLPair(key: keyScalar.string, keyLocation: keyLocation, value: converted))
            }
            return YAMLNode(.mapping(pairs), at: location(mapping.mark, file))
        case let .alias(alias):
            throw Diagnostic("unresolved YAML alias", at: location(alias.mark, file))
        }
    }

    /// YAML 1.2 core schema resolution of a scalar; quoted scalars are always strings.
    static func resolve(_ scalar: Node.Scalar) -> YAMLNode.Value {
        let text = scalar.string
        guard scalar.style == .plain else { return .string(text) }
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        default: break
        }
        if let int = parseInt(text) { return .int(int) }
        if isFloat(text) { return .float(text) }
        return .string(text)
    }

    private static func parseInt(_ text: String) -> Int? {
        if text.hasPrefix("0x") { return Int(text.dropFirst(2), radix: 16) }
        if text.hasPrefix("0o") { return Int(text.dropFirst(2), radix: 8) }
        guard let first = text.utf8.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+")
                || (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")) else { return nil }
        return Int(text)
    }

    private static func isFloat(_ text: String) -> Bool {
        switch text {
        case ".inf", ".Inf", ".INF", "+.inf", "-.inf", ".nan", ".NaN", ".NAN": return true
        default: break
        }
        var sawDigit = false
        var sawDot = false
        var sawExp = false
        var previous: UInt8 = 0
        for (index, c) in text.utf8.enumerated() {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): sawDigit = true
            case UInt8(ascii: "+"), UInt8(ascii: "-"):
                guard index == 0 || previous == UInt8(ascii: "e") || previous == UInt8(ascii: "E") else { return false }
            case UInt8(ascii: "."):
                guard !sawDot, !sawExp else { return false }
                sawDot = true
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                guard sawDigit, !sawExp else { return false }
                sawExp = true
            default: return false
            }
            previous = c
        }
        return sawDigit && (sawDot || sawExp)
    }
}
