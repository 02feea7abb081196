/// Turning one schema object into keywords.
extension SchemaCompiler {
    /// Compiles the schema `value` found at `location`.
    func buildNode(_ value: JSONValue, at location: Location, info: LocationInfo) throws -> SchemaNode {
        let resource = resource(for: info.resource)
        let path = location.pointer
        if case .bool(let b) = value { return SchemaNode(path: path, resource: resource, constant: b, keywords: []) }
        guard case .object(let obj) = value else {
            throw SchemaCompileError(keywordLocation: documentURIs[location.doc] + "#" + path,
                                     message: "a schema must be an object or a boolean, found \(value.typeName)")
        }
        var builder = KeywordBuilder(compiler: self, obj: obj, location: location, info: info)
        try builder.build()
        return SchemaNode(path: path, resource: resource, constant: nil, keywords: builder.keywords)
    }
}

/// Compiles the keywords of one schema object in evaluation order.
struct KeywordBuilder {
    let compiler: SchemaCompiler
    let obj: JSONObject
    let location: SchemaCompiler.Location
    let info: SchemaCompiler.LocationInfo
    var keywords: [CompiledKeyword] = []

    var dialect: Dialect { info.dialect }
    var draft: SchemaDraft { info.dialect.draft }

    init(compiler: SchemaCompiler, obj: JSONObject, location: SchemaCompiler.Location, info: SchemaCompiler.LocationInfo) {
        self.compiler = compiler
        self.obj = obj
        self.location = location
        self.info = info
    }

    /// A compile error for keyword `key` of this schema.
    func error(_ key: String, _ message: String) -> SchemaCompileError {
        SchemaCompileError(keywordLocation: compiler.documentURIs[location.doc] + "#" + location.pointer + "/" + JSONPointer.escape(key),
                           message: "\(key) \(message)")
    }

    mutating func add(_ name: String, _ keyword: Keyword) { keywords.append(CompiledKeyword(name: name, keyword: keyword)) }

    /// Compiles the subschema at `key` (plus optional further tokens).
    func sub(_ tokens: String...) throws -> Int {
        let suffix = tokens.map { "/" + JSONPointer.escape($0) }.joined()
        return try compiler.compileAt(SchemaCompiler.Location(doc: location.doc, pointer: location.pointer + suffix))
    }

    func schemaList(_ key: String) throws -> [Int]? {
        guard let v = obj[key] else { return nil }
        guard case .array(let a) = v, !a.isEmpty else { throw error(key, "must be a non-empty array of schemas") }
        return try a.indices.map { try sub(key, String($0)) }
    }

    func number(_ key: String) throws -> JSONNumber? {
        guard let v = obj[key] else { return nil }
        guard case .number(let n) = v else { throw error(key, "must be a number") }
        return n
    }

    func count(_ key: String) throws -> Int? {
        guard let v = obj[key] else { return nil }
        guard case .number(let n) = v, n.isInteger, n.doubleValue >= 0 else { throw error(key, "must be a non-negative integer") }
        return n.intValue ?? Int.max
    }

    func regex(_ key: String, _ source: String) throws -> ECMARegex {
        do { return try ECMARegex(source) } catch let e as ECMARegex.SyntaxError { throw error(key, e.message) }
    }

    func stringArray(_ key: String, _ value: JSONValue) throws -> [String] {
        guard case .array(let a) = value else { throw error(key, "must be an array of strings") }
        return try a.map { guard case .string(let s) = $0 else { throw error(key, "must be an array of strings") }; return s }
    }

    mutating func build() throws {
        let loc = compiler.documentURIs[location.doc] + "#" + location.pointer
        if let ref = obj["$ref"] {
            guard case .string(let r) = ref else { throw error("$ref", "must be a string") }
            add("$ref", .ref(try compiler.resolveReference(r, base: info.base, dialect: dialect, from: loc + "/$ref")))
            if draft == .draft7 { return }
        }
        if draft == .draft2020_12, let ref = obj["$dynamicRef"] {
            guard case .string(let r) = ref else { throw error("$dynamicRef", "must be a string") }
            let target = try compiler.resolveLocation(r, base: info.base, dialect: dialect, from: loc + "/$dynamicRef")
            let index = try compiler.compileAt(target)
            var anchor: String?
            if let fragment = URIReference(r).fragment, !fragment.isEmpty, !fragment.hasPrefix("/"),
                case .object(let t) = JSONPointer.evaluate(target.pointer, in: compiler.documents[target.doc]),
                t["$dynamicAnchor"]?.stringValue == fragment
            {
                anchor = fragment
            }
            add("$dynamicRef", .dynamicRef(index, anchor: anchor))
        }
        if draft == .draft2019_09, let ref = obj["$recursiveRef"]?.stringValue {
            let target = try compiler.resolveLocation(ref, base: info.base, dialect: dialect, from: loc + "/$recursiveRef")
            let index = try compiler.compileAt(target)
            let dynamic = JSONPointer.evaluate(target.pointer, in: compiler.documents[target.doc])?["$recursiveAnchor"] == .bool(true)
            add("$recursiveRef", .recursiveRef(index, dynamic: dynamic))
        }
        if dialect.validation { try buildValidation() }
        if dialect.formatAssertion || compiler.options.formatAssertion, let f = obj["format"] {
            guard case .string(let name) = f else { throw error("format", "must be a string") }
            if let checker = FormatChecker(name: name) { add("format", .format(checker)) }
        }
        if draft == .draft7, dialect.validation {
            let assertion = ContentAssertion(encoding: obj["contentEncoding"]?.stringValue, mediaType: obj["contentMediaType"]?.stringValue)
            if assertion.checksSomething {
                add(obj["contentMediaType"] != nil ? "contentMediaType" : "contentEncoding", .content(assertion))
            }
        }
        if dialect.applicator { try buildApplicators() }
        if dialect.unevaluated && draft != .draft7 {
            if obj["unevaluatedItems"] != nil {
                add("unevaluatedItems", .unevaluatedItems(try sub("unevaluatedItems")))
                compiler.usesUnevaluated = true
            }
            if obj["unevaluatedProperties"] != nil {
                add("unevaluatedProperties", .unevaluatedProperties(try sub("unevaluatedProperties")))
                compiler.usesUnevaluated = true
            }
        }
    }

    mutating func buildValidation() throws {
        if let t = obj["type"] {
            var set = TypeSet()
            var names: [String] = []
            let list: [JSONValue]
            if case .array(let a) = t { list = a } else { list = [t] }
            for item in list {
                guard case .string(let name) = item, let s = TypeSet(name: name) else {
                    throw error("type", "must be a type name or an array of type names (null, boolean, integer, number, string, array, object)")
                }
                set.formUnion(s)
                names.append(name)
            }
            add("type", .type(set, names: names))
        }
        if let e = obj["enum"] {
            guard case .array(let values) = e else { throw error("enum", "must be an array") }
            add("enum", .enumeration(values))
        }
        if let c = obj["const"] { add("const", .const(c)) }
        if let n = try number("multipleOf") {
            guard n.doubleValue > 0 else { throw error("multipleOf", "must be greater than 0") }
            add("multipleOf", .multipleOf(n))
        }
        if let n = try number("maximum") { add("maximum", .maximum(n)) }
        if let n = try number("exclusiveMaximum") { add("exclusiveMaximum", .exclusiveMaximum(n)) }
        if let n = try number("minimum") { add("minimum", .minimum(n)) }
        if let n = try number("exclusiveMinimum") { add("exclusiveMinimum", .exclusiveMinimum(n)) }
        if let n = try count("maxLength") { add("maxLength", .maxLength(n)) }
        if let n = try count("minLength") { add("minLength", .minLength(n)) }
        if let p = obj["pattern"] {
            guard case .string(let source) = p else { throw error("pattern", "must be a string") }
            add("pattern", .pattern(try regex("pattern", source)))
        }
        if let n = try count("maxItems") { add("maxItems", .maxItems(n)) }
        if let n = try count("minItems") { add("minItems", .minItems(n)) }
        if let u = obj["uniqueItems"] {
            guard case .bool(let b) = u else { throw error("uniqueItems", "must be a boolean") }
            if b { add("uniqueItems", .uniqueItems) }
        }
        if let n = try count("maxProperties") { add("maxProperties", .maxProperties(n)) }
        if let n = try count("minProperties") { add("minProperties", .minProperties(n)) }
        if let r = obj["required"] {
            let names = try stringArray("required", r)
            if !names.isEmpty { add("required", .required(names)) }
        }
        if draft != .draft7, let d = obj["dependentRequired"] {
            guard case .object(let members) = d else { throw error("dependentRequired", "must be an object") }
            add("dependentRequired", .dependentRequired(try members.map { ($0.key, try stringArray("dependentRequired", $0.value)) }))
        }
    }

    mutating func buildApplicators() throws {
        if let list = try schemaList("allOf") { add("allOf", .allOf(list)) }
        if let list = try schemaList("anyOf") { add("anyOf", .anyOf(list)) }
        if let list = try schemaList("oneOf") { add("oneOf", .oneOf(list)) }
        if obj["not"] != nil { add("not", .not(try sub("not"))) }
        if obj["if"] != nil {
            let thenIndex = obj["then"] != nil ? try sub("then") : nil
            let elseIndex = obj["else"] != nil ? try sub("else") : nil
            add("if", .conditional(if: try sub("if"), then: thenIndex, else: elseIndex))
        }
        if draft != .draft7, let d = obj["dependentSchemas"] {
            guard case .object(let members) = d else { throw error("dependentSchemas", "must be an object") }
            add("dependentSchemas", .dependentSchemas(try members.map { ($0.key, try sub("dependentSchemas", $0.key)) }))
        }
        if let d = obj["dependencies"] {
            guard case .object(let members) = d else { throw error("dependencies", "must be an object") }
            var required: [(String, [String])] = []
            var schemas: [(String, Int)] = []
            for (key, value) in members {
                if case .array = value {
                    required.append((key, try stringArray("dependencies", value)))
                } else {
                    schemas.append((key, try sub("dependencies", key)))
                }
            }
            if !required.isEmpty { add("dependencies", .dependentRequired(required)) }
            if !schemas.isEmpty { add("dependencies", .dependentSchemas(schemas)) }
        }
        try buildItems()
        if obj["contains"] != nil {
            let min = try count("minContains") ?? 1
            let max = try count("maxContains")
            add("contains", .contains(try sub("contains"), min: draft == .draft7 ? 1 : min, max: draft == .draft7 ? nil : max))
        }
        try buildProperties()
        if obj["propertyNames"] != nil { add("propertyNames", .propertyNames(try sub("propertyNames"))) }
    }

    mutating func buildItems() throws {
        if draft == .draft2020_12 {
            var prefix: [Int] = []
            if let p = obj["prefixItems"] {
                guard case .array(let a) = p else { throw error("prefixItems", "must be an array of schemas") }
                prefix = try a.indices.map { try sub("prefixItems", String($0)) }
            }
            if let items = obj["items"] {
                if case .array = items { throw error("items", "must be a schema in 2020-12 (use prefixItems for tuples)") }
                add(obj["prefixItems"] != nil ? "prefixItems" : "items",
                    .items(prefix: prefix, rest: try sub("items"), restKeyword: "items"))
            } else if obj["prefixItems"] != nil {
                add("prefixItems", .items(prefix: prefix, rest: nil, restKeyword: "items"))
            }
            return
        }
        guard let items = obj["items"] else { return }
        if case .array(let a) = items {
            let prefix = try a.indices.map { try sub("items", String($0)) }
            let rest = obj["additionalItems"] != nil ? try sub("additionalItems") : nil
            add("items", .items(prefix: prefix, rest: rest, restKeyword: "additionalItems"))
        } else {
            add("items", .items(prefix: [], rest: try sub("items"), restKeyword: "items"))
        }
    }

    mutating func buildProperties() throws {
        var named: [String: Int] = [:]
        var patterns: [(ECMARegex, Int)] = []
        if let p = obj["properties"] {
            guard case .object(let members) = p else { throw error("properties", "must be an object of schemas") }
            for key in members.keys { named[key] = try sub("properties", key) }
        }
        if let p = obj["patternProperties"] {
            guard case .object(let members) = p else { throw error("patternProperties", "must be an object of schemas") }
            for key in members.keys { patterns.append((try regex("patternProperties", key), try sub("patternProperties", key))) }
        }
        let additional = obj["additionalProperties"] != nil ? try sub("additionalProperties") : nil
        if obj["properties"] != nil || obj["patternProperties"] != nil || additional != nil {
            add("properties", .properties(named: named, patterns: patterns, additional: additional))
        }
    }
}
