import Foundation

/// Builds a `SchemaProgram`: loads documents, indexes identifiers and anchors, compiles reachable schemas.
final class SchemaCompiler {
    /// What the scan learnt about one schema location.
    struct LocationInfo {
        let base: String
        let dialect: Dialect
        let resource: String
    }

    /// A schema location: document index and JSON pointer.
    struct Location: Hashable {
        let doc: Int
        let pointer: String
    }

    let options: SchemaOptions
    var documents: [JSONValue] = []
    var documentURIs: [String] = []
    var resourceLocations: [String: Location] = [:]
    var anchors: [String: Location] = [:]
    var dynamicAnchorLocations: [String: [String: Location]] = [:]
    var recursiveAnchorLocations: [String: Location] = [:]
    var scanned: [Location: LocationInfo] = [:]
    var nodeIndex: [Location: Int] = [:]
    var nodes: [SchemaNode?] = []
    var resources: [SchemaResource] = []
    var resourceIndex: [String: Int] = [:]
    var usesUnevaluated = false
    var dialectCache: [String: Dialect] = [:]

    init(options: SchemaOptions) { self.options = options }

    /// Compiles `root` and everything it references.
    func compile(_ root: JSONValue) throws -> SchemaProgram {
        let dialect = try dialect(of: root, inherited: Dialect(draft: options.defaultDraft), pointer: "")
        var base = options.baseURI
        if case .object(let obj) = root, let id = obj["$id"]?.stringValue, !(dialect.draft == .draft7 && obj["$ref"] != nil) {
            base = URIReference.resolve(id, against: base)
        }
        base = URIReference(base).withoutFragment.text
        let doc = try addDocument(root, uri: base, dialect: dialect)
        let rootIndex = try compileAt(Location(doc: doc, pointer: ""))
        // Compile every dynamic/recursive anchor of every resource entered, for runtime lookup.
        var r = 0
        while r < resources.count {
            let uri = resources[r].uri
            for (name, location) in dynamicAnchorLocations[uri] ?? [:] {
                let index = try compileAt(location)
                resources[r].dynamicAnchors[name] = index
            }
            if let location = recursiveAnchorLocations[uri] {
                let index = try compileAt(location)
                resources[r].recursiveAnchor = index
            }
            r += 1
        }
        var finished: [SchemaNode] = []
        finished.reserveCapacity(nodes.count)
        for node in nodes {
            guard let node else { throw SchemaCompileError(keywordLocation: "", message: "internal error: unfinished schema") }
            finished.append(node)
        }
        return SchemaProgram(nodes: finished, resources: resources, root: rootIndex, tracksAnnotations: usesUnevaluated)
    }

    // MARK: Documents and scanning

    /// Adds a document under `uri` and indexes its identifiers.
    func addDocument(_ value: JSONValue, uri: String, dialect: Dialect) throws -> Int {
        let doc = documents.count
        documents.append(value)
        documentURIs.append(uri)
        resourceLocations[uri] = Location(doc: doc, pointer: "")
        try scan(value, at: Location(doc: doc, pointer: ""), base: uri, dialect: dialect, resource: uri, isRoot: true)
        return doc
    }

    /// The dialect for a schema object: its `$schema` if present, else the inherited one.
    func dialect(of value: JSONValue, inherited: Dialect, pointer: String) throws -> Dialect {
        guard case .object(let obj) = value, let uri = obj["$schema"]?.stringValue else { return inherited }
        return try dialect(forMetaschema: uri, location: pointer + "/$schema")
    }

    /// Works out the dialect named by a `$schema` URI, reading custom metaschemas' `$vocabulary`.
    func dialect(forMetaschema uri: String, location: String, depth: Int = 0) throws -> Dialect {
        if let draft = SchemaDraft(metaschemaURI: uri) { return Dialect(draft: draft) }
        let key = URIReference(uri).withoutFragment.text
        if let cached = dialectCache[key] { return cached }
        guard depth < 8, let meta = try fetch(key), case .object(let obj) = meta else {
            throw SchemaCompileError(keywordLocation: location, message: "unknown metaschema \(uri)")
        }
        var dialect = Dialect(draft: options.defaultDraft)
        if let parent = obj["$schema"]?.stringValue, parent != uri {
            dialect = try self.dialect(forMetaschema: parent, location: location, depth: depth + 1)
        }
        if let vocabulary = obj["$vocabulary"]?.objectValue {
            if let unknown = try dialect.apply(vocabulary: vocabulary) {
                throw SchemaCompileError(keywordLocation: location,
                                         message: "metaschema \(uri) requires the unsupported vocabulary \(unknown)")
            }
        }
        dialectCache[key] = dialect
        return dialect
    }

    /// A document from the built-in metaschemas or the resolver.
    func fetch(_ uri: String) throws -> JSONValue? {
        if let text = Metaschemas.documents[uri] ?? Metaschemas.documents[uri.replacingOccurrences(of: "http://", with: "https://")] {
            return try JSONValue.parse(text)
        }
        return try options.resolver?.schema(for: uri)
    }

    /// Records identifiers, anchors and per-location info for a schema and its subschemas.
    func scan(_ value: JSONValue, at location: Location, base inheritedBase: String, dialect inherited: Dialect,
              resource inheritedResource: String, isRoot: Bool = false) throws
    {
        guard case .object(let obj) = value else {
            scanned[location] = LocationInfo(base: inheritedBase, dialect: inherited, resource: inheritedResource)
            return
        }
        var base = inheritedBase
        var resource = inheritedResource
        var dialect = inherited
        if obj["$schema"] != nil, isRoot || obj["$id"] != nil {
            dialect = try self.dialect(of: value, inherited: inherited, pointer: location.pointer)
        }
        let refHidesSiblings = dialect.draft == .draft7 && obj["$ref"] != nil
        if !refHidesSiblings, let id = obj["$id"]?.stringValue {
            let resolved = URIReference(base).resolving(URIReference(id))
            if dialect.draft == .draft7, id.hasPrefix("#") {
                if let name = resolved.fragment, !name.isEmpty { anchors[base + "#" + name] = location }
            } else {
                base = resolved.withoutFragment.text
                resource = base
                resourceLocations[base] = location
                if dialect.draft == .draft7, let name = resolved.fragment, !name.isEmpty {
                    anchors[base + "#" + name] = location
                }
            }
        }
        if dialect.isModern {
            if let name = obj["$anchor"]?.stringValue { anchors[base + "#" + name] = location }
            if dialect.draft == .draft2020_12, let name = obj["$dynamicAnchor"]?.stringValue {
                anchors[base + "#" + name] = location
                dynamicAnchorLocations[resource, default: [:]][name] = location
            }
            if dialect.draft == .draft2019_09, obj["$recursiveAnchor"] == .bool(true) {
                recursiveAnchorLocations[resource] = location
            }
        }
        scanned[location] = LocationInfo(base: base, dialect: dialect, resource: resource)
        for (key, child) in obj {
            let keyPointer = location.pointer + "/" + JSONPointer.escape(key)
            switch SchemaCompiler.subschemaShape(of: key, draft: dialect.draft) {
            case .none:
                continue
            case .single:
                try scan(child, at: Location(doc: location.doc, pointer: keyPointer), base: base, dialect: dialect, resource: resource)
            case .map:
                guard case .object(let members) = child else { continue }
                for (name, sub) in members where !(key == "dependencies" && sub.arrayValue != nil) {
                    try scan(sub, at: Location(doc: location.doc, pointer: keyPointer + "/" + JSONPointer.escape(name)),
                             base: base, dialect: dialect, resource: resource)
                }
            case .list:
                if case .array(let elements) = child {
                    for (i, sub) in elements.enumerated() {
                        try scan(sub, at: Location(doc: location.doc, pointer: keyPointer + "/\(i)"),
                                 base: base, dialect: dialect, resource: resource)
                    }
                } else if key == "items" {
                    try scan(child, at: Location(doc: location.doc, pointer: keyPointer), base: base, dialect: dialect, resource: resource)
                }
            }
        }
    }

    /// How a keyword holds subschemas.
    enum Shape { case none, single, map, list }

    /// The subschema shape of `key` in `draft`.
    static func subschemaShape(of key: String, draft: SchemaDraft) -> Shape {
        switch key {
        case "additionalProperties", "propertyNames", "not", "if", "then", "else", "contains": return .single
        case "properties", "patternProperties": return .map
        case "allOf", "anyOf", "oneOf": return .list
        case "items": return draft == .draft2020_12 ? .single : .list
        case "additionalItems": return draft == .draft2020_12 ? .none : .single
        case "definitions": return .map
        case "dependencies": return .map
        case "$defs", "dependentSchemas": return draft == .draft7 ? .none : .map
        case "unevaluatedItems", "unevaluatedProperties": return draft == .draft7 ? .none : .single
        case "prefixItems": return draft == .draft2020_12 ? .list : .none
        default: return .none
        }
    }

    // MARK: Resolution

    /// The location for an absolute URI (no fragment), loading the document if needed.
    func locate(_ uri: String, dialect: Dialect) throws -> Location? {
        if let location = resourceLocations[uri] { return location }
        guard let document = try fetch(uri) else { return nil }
        let docDialect = try self.dialect(of: document, inherited: dialect, pointer: "")
        let doc = try addDocument(document, uri: uri, dialect: docDialect)
        return resourceLocations[uri] ?? Location(doc: doc, pointer: "")
    }

    /// Resolves a reference written at `from` to a compiled node index.
    func resolveReference(_ reference: String, base: String, dialect: Dialect, from keywordLocation: String) throws -> Int {
        try compileAt(resolveLocation(reference, base: base, dialect: dialect, from: keywordLocation))
    }

    /// Resolves a reference to a schema location.
    func resolveLocation(_ reference: String, base: String, dialect: Dialect, from keywordLocation: String) throws -> Location {
        let target = URIReference(base).resolving(URIReference(reference))
        let absolute = target.withoutFragment.text
        let fragment = target.fragment ?? ""
        func unresolvable() -> SchemaCompileError {
            SchemaCompileError(keywordLocation: keywordLocation, message: "cannot resolve reference \(reference) (\(target.text))")
        }
        guard let resourceLocation = try locate(absolute, dialect: dialect) else { throw unresolvable() }
        if fragment.isEmpty || fragment.hasPrefix("/") {
            guard let decoded = fragment.removingPercentEncoding else { throw unresolvable() }
            let location = Location(doc: resourceLocation.doc, pointer: resourceLocation.pointer + decoded)
            guard JSONPointer.evaluate(location.pointer, in: documents[location.doc]) != nil else { throw unresolvable() }
            return location
        }
        guard let location = anchors[absolute + "#" + fragment] else { throw unresolvable() }
        return location
    }

    /// Scan info for a location, inferred from the nearest scanned ancestor when it was not scanned.
    func info(for location: Location) throws -> LocationInfo {
        if let info = scanned[location] { return info }
        var tokens = location.pointer.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        while tokens.count > 1 {
            tokens.removeLast()
            let ancestor = Location(doc: location.doc, pointer: tokens.joined(separator: "/"))
            if let info = scanned[ancestor] {
                guard let value = JSONPointer.evaluate(location.pointer, in: documents[location.doc]) else { return info }
                try scan(value, at: location, base: info.base, dialect: info.dialect, resource: info.resource)
                return scanned[location] ?? info
            }
        }
        let uri = documentURIs[location.doc]
        return LocationInfo(base: uri, dialect: Dialect(draft: options.defaultDraft), resource: uri)
    }

    /// The index of a resource, creating it on first use.
    func resource(for uri: String) -> Int {
        if let index = resourceIndex[uri] { return index }
        resources.append(SchemaResource(uri: uri, dynamicAnchors: [:], recursiveAnchor: nil))
        resourceIndex[uri] = resources.count - 1
        return resources.count - 1
    }

    /// Compiles the schema at `location` once, returning its node index.
    func compileAt(_ location: Location) throws -> Int {
        if let index = nodeIndex[location] { return index }
        guard let value = JSONPointer.evaluate(location.pointer, in: documents[location.doc]) else {
            throw SchemaCompileError(keywordLocation: documentURIs[location.doc] + "#" + location.pointer,
                                     message: "no schema at this location")
        }
        let info = try info(for: location)
        let index = nodes.count
        nodes.append(nil)
        nodeIndex[location] = index
        nodes[index] = try buildNode(value, at: location, info: info)
        return index
    }
}
