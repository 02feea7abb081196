import Foundation
import JSONSchema

/// The outcome of checking one plugin's merged config against its schema.
public struct ConfigCheck: Sendable {
    /// The merged config (defaults, config file, host override).
    public var config: ConfigValue
    /// Dotted paths of secret values, as `ConfigSecrets.paths(in:)` finds them in the schema.
    public var secretPaths: Set<String>
    /// Every violation, at the YAML position of the value, secrets masked; empty when valid.
    public var problems: [Diagnostic]
}

/// Compiles each distinct config schema once and validates merged configs against it, with
/// `format` asserted, reporting each violation at the file, line and column of the bad value.
///
/// One cache lives as long as one run (a reconcile, a validate, a diff), so that a thousand
/// plugins sharing a schema compile it once. It is a class so that copies of the resolver
/// that owns it share it.
public final class ConfigSchemaCache: @unchecked Sendable {
    // @unchecked: `entries` and `compilations` are only touched while holding `lock`.
    private let lock = NSLock()
    private var entries: [String: Entry] = [:]
    private var nodes: [String: YAMLNode?] = [:]
    private var compilations = 0

    /// One distinct schema text, compiled.
    struct Entry {
        var compiled: Result<JSONSchema, SchemaProblem>
        var secretPaths: Set<String>
    }

    /// Why a schema cannot be used: a message and, when known, the JSON pointer or line of the fault.
    struct SchemaProblem: Error {
        var message: String
        var pointer: String?
        var line: Int?
        var column: Int?
    }

    public init() {}

    /// How many distinct schemas were compiled so far.
    public var compiledCount: Int { lock.withLock { compilations } }

    /// Merges `layers` and validates the result against `schemaText`; `plugin` names the plugin in diagnostics.
    public func check(_ layers: ConfigLayers, schemaText: String, plugin: String) -> ConfigCheck {
        let config = layers.merged
        let entry = self.entry(for: schemaText)
        var check = ConfigCheck(config: config, secretPaths: entry.secretPaths, problems: [])
        switch entry.compiled {
        case let .failure(problem):
            let schemaNode = schemaNode(for: schemaText)
            var location = SourceLocation(file: layers.schemaFile)
            if let line = problem.line { location.line = line; location.column = problem.column ?? 1 }
            if let pointer = problem.pointer, let node = schemaNode?.node(at: PointerTokens.split(pointer)) {
                location = node.location
                location.file = layers.schemaFile
            }
            check.problems = [Diagnostic("ui/config.schema.json is not a valid JSON Schema: \(problem.message)", at: location,
                                         plugin: plugin, hint: "fix the schema; the config cannot be checked without it")]
        case let .success(schema):
            let instance = config.jsonValue
            guard !schema.isValid(instance) else { return check }
            let result = schema.validate(instance)
            let schemaNode = schemaNode(for: schemaText)
            let scrubber = SecretScrubber(config: config, secrets: entry.secretPaths)
            check.problems = result.errors.map { error in
                diagnostic(for: error, layers: layers, schema: schemaNode, scrubber: scrubber, plugin: plugin)
            }
        }
        return check
    }

    private func diagnostic(for error: ValidationError, layers: ConfigLayers, schema: YAMLNode?,
                            scrubber: SecretScrubber, plugin: String) -> Diagnostic {
        let tokens = PointerTokens.split(error.instanceLocation)
        let rule = Self.rule(of: error.keywordLocation)
        var origin = layers.origin(of: tokens, schema: schema)
        if rule == "additionalProperties" || rule == "unevaluatedProperties", let key = Self.namedProperty(in: error.message) {
            origin = layers.keyOrigin(key, at: tokens, schema: schema)
        }
        let message = scrubber.scrub(error.message, at: tokens)
        let shown = error.instanceLocation.isEmpty ? "/" : error.instanceLocation
        return Diagnostic("\(shown): \(message)", at: origin.location, plugin: plugin, hint: rule)
    }

    /// The keyword a violation broke (`maximum`, `format`, `required`), from its keyword location.
    static func rule(of keywordLocation: String) -> String {
        let tokens = PointerTokens.split(keywordLocation)
        guard let last = tokens.last else { return "schema" }
        if tokens.count >= 2, ["dependentRequired", "dependencies"].contains(tokens[tokens.count - 2]) {
            return tokens[tokens.count - 2]
        }
        return assertionKeywords.contains(last) ? last : "schema at \(keywordLocation)"
    }

    static let assertionKeywords: Set<String> = [
        "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
        "maxLength", "minLength", "pattern", "format", "maxItems", "minItems", "uniqueItems", "contains",
        "maxContains", "minContains", "maxProperties", "minProperties", "required", "dependentRequired",
        "additionalProperties", "unevaluatedProperties", "unevaluatedItems", "additionalItems", "items",
        "propertyNames", "anyOf", "oneOf", "not", "false",
    ]

    /// The key a "property "x" is not allowed" message names, read as the JSON string it is written as.
    static func namedProperty(in message: String) -> String? {
        guard let start = message.range(of: "property \"") else { return nil }
        var index = message.index(before: start.upperBound)
        var literal = ""
        var escaped = false
        literal.append(message[index])
        index = message.index(after: index)
        while index < message.endIndex {
            let c = message[index]
            literal.append(c)
            if escaped {
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == "\"" {
                return (try? JSONValue.parse(literal))?.stringValue
            }
            index = message.index(after: index)
        }
        return nil
    }

    /// The schema parsed as YAML, for the positions of its defaults, parsed only when a problem or
    /// `config show` needs them. Its locations name no file (the same text may serve several
    /// plugins): `ConfigLayers.origin` puts the plugin's schema file in.
    public func schemaNode(for text: String) -> YAMLNode? {
        if let cached = lock.withLock({ nodes[text] }) { return cached }
        let node = try? YAMLDocument.parse(Array(text.utf8), file: "")
        lock.withLock { nodes[text] = node }
        return node
    }

    func entry(for text: String) -> Entry {
        if let cached = lock.withLock({ entries[text] }) { return cached }
        var entry: Entry
        do {
            let json = try JSONValue.parse(text)
            entry = Entry(compiled: .failure(SchemaProblem(message: "not compiled")), secretPaths: ConfigSecrets.paths(in: json))
            do {
                entry.compiled = .success(try JSONSchema.compile(json, options: SchemaOptions(formatAssertion: true)))
            } catch let error as SchemaCompileError {
                let pointer = error.keywordLocation.split(separator: "#", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
                entry.compiled = .failure(SchemaProblem(message: "\(error.message) (at \(error.keywordLocation))", pointer: pointer))
            } catch {
                entry.compiled = .failure(SchemaProblem(message: "\(error)"))
            }
        } catch let error as JSONParseError {
            entry = Entry(compiled: .failure(SchemaProblem(message: "invalid JSON: \(error.reason)", line: error.line,
                                                           column: error.column)), secretPaths: [])
        } catch {
            entry = Entry(compiled: .failure(SchemaProblem(message: "invalid JSON: \(error)")), secretPaths: [])
        }
        lock.withLock {
            if entries[text] == nil { compilations += 1 }
            entries[text] = entry
        }
        return entry
    }
}
