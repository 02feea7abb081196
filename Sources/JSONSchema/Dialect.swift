/// The draft and enabled vocabularies in effect for a schema resource.
struct Dialect: Hashable, Sendable {
    var draft: SchemaDraft
    var core = true
    var applicator = true
    var validation = true
    var unevaluated = true
    var formatAssertion = false

    init(draft: SchemaDraft) { self.draft = draft }

    /// Whether this draft is 2019-09 or later.
    var isModern: Bool { draft != .draft7 }

    /// Vocabulary URIs this validator implements, and which flag each one controls.
    static let knownVocabularies: Set<String> = [
        "https://json-schema.org/draft/2020-12/vocab/core",
        "https://json-schema.org/draft/2020-12/vocab/applicator",
        "https://json-schema.org/draft/2020-12/vocab/unevaluated",
        "https://json-schema.org/draft/2020-12/vocab/validation",
        "https://json-schema.org/draft/2020-12/vocab/meta-data",
        "https://json-schema.org/draft/2020-12/vocab/format-annotation",
        "https://json-schema.org/draft/2020-12/vocab/format-assertion",
        "https://json-schema.org/draft/2020-12/vocab/content",
        "https://json-schema.org/draft/2019-09/vocab/core",
        "https://json-schema.org/draft/2019-09/vocab/applicator",
        "https://json-schema.org/draft/2019-09/vocab/validation",
        "https://json-schema.org/draft/2019-09/vocab/meta-data",
        "https://json-schema.org/draft/2019-09/vocab/format",
        "https://json-schema.org/draft/2019-09/vocab/content",
    ]

    /// Applies a metaschema's `$vocabulary` object; throws for a required vocabulary that is unknown.
    mutating func apply(vocabulary: JSONObject) throws -> String? {
        var seen = Set<String>()
        for (uri, required) in vocabulary {
            if !Dialect.knownVocabularies.contains(uri) {
                if required == .bool(true) { return uri }
                continue
            }
            seen.insert(String(uri.split(separator: "/").last ?? ""))
        }
        applicator = seen.contains("applicator")
        validation = seen.contains("validation")
        unevaluated = draft == .draft2019_09 ? applicator : seen.contains("unevaluated")
        formatAssertion = seen.contains("format-assertion")
        return nil
    }
}
