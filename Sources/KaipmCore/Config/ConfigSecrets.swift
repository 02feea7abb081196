import JSONSchema

/// Which config values are secret, from the schema's `writeOnly: true` and `x-kaipm-secret: true`.
///
/// Paths are dotted like the keys of plans (`database.password`); a `*` segment stands for any
/// key (a secret under `additionalProperties` or `patternProperties`). Lists are shown whole in
/// plans, so a list whose items hold a secret is secret as a whole.
public enum ConfigSecrets {
    /// The most schema levels (and `$ref` hops) followed; deeper secrets are not looked for.
    static let maxDepth = 48

    /// The dotted paths the schema marks secret, following `properties`, map and list item
    /// schemas, `allOf`/`anyOf`/`oneOf`/`if`/`then`/`else`/`dependentSchemas` and local `$ref`s.
    public static func paths(in schema: JSONValue) -> Set<String> {
        var found: Set<String> = []
        collect(schema, root: schema, path: [], depth: 0, into: &found)
        return found
    }

    /// Whether the value at `dotted` is a secret or inside one.
    public static func isSecret(_ dotted: String, in secrets: Set<String>) -> Bool {
        if secrets.isEmpty || dotted.isEmpty { return false }
        if secrets.contains(dotted) || secrets.contains(where: { dotted.hasPrefix($0 + ".") }) { return true }
        let key = dotted.split(separator: ".", omittingEmptySubsequences: false)
        return secrets.contains { secret in
            guard secret.contains("*") else { return false }
            let pattern = secret.split(separator: ".", omittingEmptySubsequences: false)
            guard pattern.count <= key.count else { return false }
            return zip(pattern, key).allSatisfy { $0 == "*" || $0 == $1 }
        }
    }

    /// `value` with every secret replaced by `(secret)`, for showing a whole config.
    public static func masked(_ value: ConfigValue, secrets: Set<String>, prefix: [String] = []) -> ConfigValue {
        if !prefix.isEmpty && isSecret(PointerTokens.dotted(prefix), in: secrets) { return .string(Planner.mask) }
        guard !secrets.isEmpty, case let .map(map) = value else { return value }
        var result: [String: ConfigValue] = [:]
        for (key, inner) in map { result[key] = masked(inner, secrets: secrets, prefix: prefix + [key]) }
        return .map(result)
    }

    private static func collect(_ schema: JSONValue, root: JSONValue, path: [String], depth: Int, into found: inout Set<String>) {
        guard depth < maxDepth, case let .object(object) = schema else { return }
        if object["writeOnly"] == .bool(true) || object["x-kaipm-secret"] == .bool(true) {
            found.insert(path.isEmpty ? "*" : PointerTokens.dotted(path))
            return
        }
        func here(_ sub: JSONValue?) {
            if let sub { collect(sub, root: root, path: path, depth: depth + 1, into: &found) }
        }
        if case let .object(properties)? = object["properties"] {
            for (key, sub) in properties { collect(sub, root: root, path: path + [key], depth: depth + 1, into: &found) }
        }
        for keyword in ["additionalProperties", "unevaluatedProperties"] {
            if let sub = object[keyword] { collect(sub, root: root, path: path + ["*"], depth: depth + 1, into: &found) }
        }
        if case let .object(patterns)? = object["patternProperties"] {
            for (_, sub) in patterns { collect(sub, root: root, path: path + ["*"], depth: depth + 1, into: &found) }
        }
        // Lists are leaves of a plan: a secret anywhere in their items makes the list secret.
        var itemSchemas: [JSONValue] = []
        for keyword in ["items", "prefixItems", "additionalItems", "unevaluatedItems", "contains"] {
            switch object[keyword] {
            case let .array(list)?: itemSchemas += list
            case let sub?: itemSchemas.append(sub)
            case nil: break
            }
        }
        if !path.isEmpty, itemSchemas.contains(where: { containsSecret($0, root: root, depth: depth + 1) }) {
            found.insert(PointerTokens.dotted(path))
        }
        for keyword in ["allOf", "anyOf", "oneOf"] {
            if case let .array(list)? = object[keyword] { list.forEach { here($0) } }
        }
        for keyword in ["if", "then", "else"] { here(object[keyword]) }
        if case let .object(dependent)? = object["dependentSchemas"] {
            for (_, sub) in dependent { here(sub) }
        }
        if case let .string(reference)? = object["$ref"], reference.hasPrefix("#") {
            here(resolveLocal(String(reference.dropFirst()), in: root))
        }
    }

    private static func containsSecret(_ schema: JSONValue, root: JSONValue, depth: Int) -> Bool {
        var found: Set<String> = []
        collect(schema, root: root, path: ["item"], depth: depth, into: &found)
        return !found.isEmpty
    }

    /// The subschema a local `#/…` reference names, or nil (anchors and other documents are not followed).
    private static func resolveLocal(_ fragment: String, in root: JSONValue) -> JSONValue? {
        let decoded = fragment.removingPercentEncodingForPointer
        guard decoded.isEmpty || decoded.hasPrefix("/") else { return nil }
        var current = root
        for token in PointerTokens.split(decoded) {
            switch current {
            case let .object(object):
                guard let next = object[token] else { return nil }
                current = next
            case let .array(items):
                guard let index = Int(token), items.indices.contains(index) else { return nil }
                current = items[index]
            default:
                return nil
            }
        }
        return current
    }
}

private extension String {
    /// Decodes `%XX` escapes of a URI fragment (a pointer with spaces is written `%20`).
    var removingPercentEncodingForPointer: String {
        guard contains("%") else { return self }
        var bytes: [UInt8] = []
        var utf8 = Array(self.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%"), utf8.count >= 2,
               let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
