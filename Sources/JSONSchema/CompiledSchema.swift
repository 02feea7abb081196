/// JSON types as a bit set, for the `type` keyword.
struct TypeSet: OptionSet, Sendable {
    let rawValue: UInt8
    static let null = TypeSet(rawValue: 1)
    static let boolean = TypeSet(rawValue: 2)
    static let integer = TypeSet(rawValue: 4)
    static let number = TypeSet(rawValue: 8)
    static let string = TypeSet(rawValue: 16)
    static let array = TypeSet(rawValue: 32)
    static let object = TypeSet(rawValue: 64)

    /// The set for a type name, nil for an unknown name.
    init?(name: String) {
        switch name {
        case "null": self = .null
        case "boolean": self = .boolean
        case "integer": self = .integer
        case "number": self = .number
        case "string": self = .string
        case "array": self = .array
        case "object": self = .object
        default: return nil
        }
    }

    init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Whether `value` has one of the types (an integer-valued number is an integer).
    func matches(_ value: JSONValue) -> Bool {
        switch value {
        case .null: return contains(.null)
        case .bool: return contains(.boolean)
        case .number(let n): return contains(.number) || (contains(.integer) && n.isInteger)
        case .string: return contains(.string)
        case .array: return contains(.array)
        case .object: return contains(.object)
        }
    }
}

/// A compiled keyword of a schema object.
enum Keyword: Sendable {
    case type(TypeSet, names: [String])
    case enumeration([JSONValue])
    case const(JSONValue)
    case multipleOf(JSONNumber)
    case maximum(JSONNumber)
    case exclusiveMaximum(JSONNumber)
    case minimum(JSONNumber)
    case exclusiveMinimum(JSONNumber)
    case maxLength(Int)
    case minLength(Int)
    case pattern(ECMARegex)
    case format(FormatChecker)
    /// Draft-07 `contentEncoding`/`contentMediaType`, checked as assertions.
    case content(ContentAssertion)
    case maxItems(Int)
    case minItems(Int)
    case uniqueItems
    case maxProperties(Int)
    case minProperties(Int)
    case required([String])
    case dependentRequired([(String, [String])])
    case ref(Int)
    /// `$dynamicRef`: the static target, and the anchor name when dynamic resolution applies.
    case dynamicRef(Int, anchor: String?)
    /// `$recursiveRef` (2019-09): the static target, and whether it carries `$recursiveAnchor: true`.
    case recursiveRef(Int, dynamic: Bool)
    case allOf([Int])
    case anyOf([Int])
    case oneOf([Int])
    case not(Int)
    case conditional(if: Int, then: Int?, else: Int?)
    case dependentSchemas([(String, Int)])
    /// `prefixItems`/`items` (2020-12) or array-form `items`/`additionalItems` (draft-07).
    case items(prefix: [Int], rest: Int?, restKeyword: String)
    case contains(Int, min: Int, max: Int?)
    /// `properties`, `patternProperties` and `additionalProperties` together.
    case properties(named: [String: Int], patterns: [(ECMARegex, Int)], additional: Int?)
    case propertyNames(Int)
    case unevaluatedItems(Int)
    case unevaluatedProperties(Int)
}

/// A keyword with the name it was written under (for keyword locations).
struct CompiledKeyword: Sendable {
    let name: String
    let keyword: Keyword
}

/// One compiled schema (object or boolean).
final class SchemaNode: Sendable {
    /// JSON pointer of this schema within its document.
    let path: String
    /// Index of the schema resource this schema belongs to.
    let resource: Int
    /// nil for a schema object; true/false for a boolean schema.
    let constant: Bool?
    /// Keywords in evaluation order (unevaluated* last).
    let keywords: [CompiledKeyword]

    init(path: String, resource: Int, constant: Bool?, keywords: [CompiledKeyword]) {
        self.path = path
        self.resource = resource
        self.constant = constant
        self.keywords = keywords
    }
}

/// A schema resource (a document or a subschema with `$id`), for `$dynamicRef` resolution.
struct SchemaResource: Sendable {
    let uri: String
    var dynamicAnchors: [String: Int]
    var recursiveAnchor: Int?
}

/// Everything needed to validate: the nodes, the resources and the root.
struct SchemaProgram: Sendable {
    let nodes: [SchemaNode]
    let resources: [SchemaResource]
    let root: Int
    let tracksAnnotations: Bool
}
