/// The JSON Schema drafts this validator understands.
public enum SchemaDraft: String, Sendable, CaseIterable {
    /// Draft-07 (`http://json-schema.org/draft-07/schema#`).
    case draft7
    /// Draft 2019-09, handled as 2020-12 with its array-form `items`, `additionalItems` and `$recursiveRef`.
    case draft2019_09
    /// Draft 2020-12 (`https://json-schema.org/draft/2020-12/schema`), the default.
    case draft2020_12

    /// The draft named by a `$schema` URI, or nil for another metaschema.
    init?(metaschemaURI uri: String) {
        var u = uri
        if u.hasSuffix("#") { u.removeLast() }
        if u.hasPrefix("https://") { u = "http://" + u.dropFirst(8) }
        switch u {
        case "http://json-schema.org/draft-07/schema": self = .draft7
        case "http://json-schema.org/draft/2019-09/schema": self = .draft2019_09
        case "http://json-schema.org/draft/2020-12/schema": self = .draft2020_12
        default: return nil
        }
    }
}

/// Settings for compiling a schema.
public struct SchemaOptions: Sendable {
    /// When true, `format` is an assertion (invalid dates, emails and so on fail); by default it only annotates.
    public var formatAssertion: Bool
    /// The draft used when a schema has no `$schema`.
    public var defaultDraft: SchemaDraft
    /// Where references to other documents are looked up; nil serves only the built-in metaschemas.
    public var resolver: (any SchemaResolver)?
    /// The base URI of the root schema when it has no `$id`.
    public var baseURI: String

    /// Creates options; every parameter has the default described on its property.
    public init(formatAssertion: Bool = false, defaultDraft: SchemaDraft = .draft2020_12,
                resolver: (any SchemaResolver)? = nil, baseURI: String = "urn:kaipm:root-schema")
    {
        self.formatAssertion = formatAssertion
        self.defaultDraft = defaultDraft
        self.resolver = resolver
        self.baseURI = baseURI
    }
}
