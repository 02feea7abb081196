/// The members of a JSON object, keeping the order keys first appeared in.
public struct JSONObject: Sendable, Hashable, Sequence {
    /// Keys in document order.
    public private(set) var keys: [String]
    /// Values by key.
    public private(set) var storage: [String: JSONValue]

    /// Creates an empty object.
    public init() { keys = []; storage = [:] }

    /// Creates an object from pairs; a repeated key keeps its first position and its last value.
    public init(_ pairs: [(String, JSONValue)]) {
        keys = []
        keys.reserveCapacity(pairs.count)
        storage = Dictionary(minimumCapacity: pairs.count)
        for (k, v) in pairs { self[k] = v }
    }

    /// The number of members.
    public var count: Int { keys.count }
    /// Whether there are no members.
    public var isEmpty: Bool { keys.isEmpty }

    /// Reads or writes a member; writing nil removes it.
    public subscript(key: String) -> JSONValue? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    /// Iterates members in key order.
    public func makeIterator() -> AnyIterator<(key: String, value: JSONValue)> {
        var index = 0
        return AnyIterator {
            while index < keys.count {
                let key = keys[index]
                index += 1
                if let value = storage[key] { return (key, value) }
            }
            return nil
        }
    }

    /// Objects are equal when they have the same members, whatever the order.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool { lhs.storage == rhs.storage }
    /// Hashes the members without regard to order.
    public func hash(into hasher: inout Hasher) { hasher.combine(storage) }
}
