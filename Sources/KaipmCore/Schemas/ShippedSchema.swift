import JSONSchema

/// The JSON Schemas (2020-12) kaipm ships for the files people write: a plugin's `plugin.json`
/// and `manifest.yaml`, and the desired-state files. `kaipm schema NAME` prints one for an
/// editor's YAML language server; `kaipm validate` checks every file against its schema.
public enum ShippedSchema: String, Sendable, CaseIterable {
    /// A plugin's `plugin.json`.
    case plugin
    /// A plugin's `manifest.yaml`.
    case manifest
    /// `desired-state/plugins/<id>.yaml`.
    case pluginEntry = "plugin-entry"
    /// `desired-state/hosts/<hostname>.yaml`.
    case host
    /// `desired-state/kos.config.yaml`.
    case kosConfig = "kos-config"

    /// The files this schema is for, as a glob relative to the repository (for editor settings).
    public var files: String {
        switch self {
        case .plugin: return "**/plugin.json"
        case .manifest: return "**/manifest.yaml"
        case .pluginEntry: return "desired-state/plugins/*.yaml"
        case .host: return "desired-state/hosts/*.yaml"
        case .kosConfig: return "desired-state/kos.config.yaml"
        }
    }

    /// The schema as pretty-printed JSON, ending with a newline.
    public var text: String { Self.texts[self] ?? "{}\n" }

    /// The schema as a JSON value.
    public var json: JSONValue { Self.documents[self] ?? .object(JSONObject()) }

    /// The same schema declared as draft-07, for editors whose YAML language server implements
    /// draft-07 only. The shipped schemas use only keywords that mean the same in both drafts
    /// (no `$defs`, `prefixItems`, `unevaluated*` or `dependent*`), so the two accept the same files.
    public var draft07Text: String {
        guard case var .object(object) = json else { return text }
        object["$schema"] = .string("http://json-schema.org/draft-07/schema#")
        return JSONValue.object(object).serialized(pretty: true) + "\n"
    }

    private static let documents: [ShippedSchema: JSONValue] = {
        var result: [ShippedSchema: JSONValue] = [:]
        for schema in allCases {
            // The sources are constants checked by the tests; a typo there is a bug, not input.
            result[schema] = (try? JSONValue.parse(schema.source)) ?? .object(JSONObject())
        }
        return result
    }()

    private static let texts: [ShippedSchema: String] = documents.mapValues { $0.serialized(pretty: true) + "\n" }

    private static let compiled: [ShippedSchema: Result<JSONSchema, any Error>] = documents.mapValues { json in
        Result { try JSONSchema.compile(json) }
    }

    /// Compiles the schema (done once per process); throws when the shipped text is broken.
    public func compile() throws -> JSONSchema {
        guard let result = Self.compiled[self] else { throw SchemaCompileError(keywordLocation: "", message: "no such schema") }
        return try result.get()
    }

    /// Checks a parsed document, reporting each violation at its YAML position with the rule it broke.
    public func validate(_ document: YAMLNode) -> [Diagnostic] {
        let schema: JSONSchema
        do {
            schema = try compile()
        } catch {
            return [Diagnostic("kaipm's \(rawValue) schema does not compile: \(error)", at: document.location,
                               hint: "this is a bug in kaipm; report it")]
        }
        let instance = document.jsonValue
        guard !schema.isValid(instance) else { return [] }
        return schema.validate(instance).errors.map { error in
            let tokens = PointerTokens.split(error.instanceLocation)
            let rule = ConfigSchemaCache.rule(of: error.keywordLocation)
            var location = document.node(at: tokens)?.location ?? document.location
            if rule == "additionalProperties", let key = ConfigSchemaCache.namedProperty(in: error.message),
               let keyLocation = document.keyLocation(of: key, at: tokens) {
                location = keyLocation
            }
            let shown = error.instanceLocation.isEmpty ? "/" : error.instanceLocation
            return Diagnostic("\(shown): \(error.message)", at: location, hint: "\(rule), kaipm's \(rawValue) schema")
        }
    }

    /// The schema for a file of the desired-state folder (`plugins/weather.yaml`), or nil.
    public static func forDesiredStatePath(_ path: String) -> ShippedSchema? {
        let parts = path.split(separator: "/")
        if path == "kos.config.yaml" { return .kosConfig }
        guard parts.count == 2, parts[1].hasSuffix(".yaml") else { return nil }
        switch parts[0] {
        case "plugins": return .pluginEntry
        case "hosts": return .host
        default: return nil
        }
    }
}
