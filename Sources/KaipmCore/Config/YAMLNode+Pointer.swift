/// RFC 6901 JSON pointers split into reference tokens, to find a validator's instance location
/// in the YAML a value came from.
public enum PointerTokens {
    /// `""` → `[]`; `"/a~1b/0"` → `["a/b", "0"]`.
    public static func split(_ pointer: String) -> [String] {
        guard pointer.hasPrefix("/") else { return [] }
        return pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map { token in
            token.contains("~") ? String(token.replacing("~1", with: "/").replacing("~0", with: "~")) : String(token)
        }
    }

    /// `["a/b", "0"]` → `"/a~1b/0"`.
    public static func join(_ tokens: [String]) -> String {
        tokens.map { "/" + $0.replacing("~", with: "~0").replacing("/", with: "~1") }.joined()
    }

    /// `["server", "port"]` → `server.port`: the dotted paths of plans and secret paths.
    public static func dotted(_ tokens: [String]) -> String { tokens.joined(separator: ".") }
}

extension YAMLNode {
    /// The node at `tokens` (mapping keys, sequence indexes), or nil when there is none.
    public func node(at tokens: some Sequence<String>) -> YAMLNode? {
        var current = self
        for token in tokens {
            switch current.value {
            case let .mapping(pairs):
                guard let pair = pairs.first(where: { $0.key == token }) else { return nil }
                current = pair.value
            case let .sequence(items):
                guard let index = Int(token), index >= 0, index < items.count, token == String(index) else { return nil }
                current = items[index]
            default:
                return nil
            }
        }
        return current
    }

    /// Where the key `key` of the mapping at `tokens` is written, or nil.
    public func keyLocation(of key: String, at tokens: some Sequence<String>) -> SourceLocation? {
        guard let container = node(at: tokens), case let .mapping(pairs) = container.value else { return nil }
        return pairs.first(where: { $0.key == key })?.keyLocation
    }

    /// Whether this node is a mapping (which merges key by key with the layers under it).
    var isMapping: Bool {
        if case .mapping = value { return true }
        return false
    }
}
