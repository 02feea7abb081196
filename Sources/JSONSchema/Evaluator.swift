/// Runs a compiled schema against one instance, tracking locations, dynamic scope and annotations.
final class Evaluator {
    let nodes: [SchemaNode]
    let resources: [SchemaResource]
    let track: Bool
    var collect: Bool
    var errors: [ValidationError] = []
    var instancePath: [PathToken] = []
    var refFrames: [(refPath: String, targetPath: String)] = []
    var scope: [Int] = []
    var depth = 0

    init(program: SchemaProgram, collect: Bool) {
        nodes = program.nodes
        resources = program.resources
        track = program.tracksAnnotations
        self.collect = collect
    }

    /// Evaluates node `index` against `value`; annotations go into `ann` (the caller drops them on failure).
    func eval(_ index: Int, _ value: JSONValue, _ ann: inout Annotations) -> Bool {
        let node = nodes[index]
        if let constant = node.constant {
            if !constant, collect { report(node, "", "no value is allowed here (the schema is false)") }
            return constant
        }
        if depth > 512 {
            if collect { report(node, "", "schema recursion is too deep (a $ref cycle that never consumes the instance?)") }
            return false
        }
        depth += 1
        let pushed = scope.last != node.resource
        if pushed { scope.append(node.resource) }
        defer {
            depth -= 1
            if pushed { scope.removeLast() }
        }
        var valid = true
        for keyword in node.keywords where !apply(keyword, node, value, &ann) {
            valid = false
            if !collect { return false }
        }
        return valid
    }

    /// Evaluates an in-place subschema and merges its annotations when it passes.
    @inline(__always)
    func inPlace(_ index: Int, _ value: JSONValue, _ ann: inout Annotations) -> Bool {
        if !track {
            var scratch = Annotations()
            return eval(index, value, &scratch)
        }
        var sub = Annotations()
        let ok = eval(index, value, &sub)
        if ok { ann.merge(sub) }
        return ok
    }

    /// Evaluates a subschema against a child of the instance (annotations stay with the child).
    @inline(__always)
    func child(_ index: Int, _ value: JSONValue, _ token: PathToken) -> Bool {
        var scratch = Annotations()
        if !collect { return eval(index, value, &scratch) }
        instancePath.append(token)
        defer { instancePath.removeLast() }
        return eval(index, value, &scratch)
    }

    /// Runs `body` without recording errors.
    @inline(__always)
    func quietly<T>(_ body: () -> T) -> T {
        let saved = collect
        collect = false
        defer { collect = saved }
        return body()
    }

    /// Follows a reference to `target`, recording the hop for keyword locations.
    func follow(_ node: SchemaNode, _ keyword: String, _ target: Int, _ value: JSONValue, _ ann: inout Annotations) -> Bool {
        if !collect { return inPlace(target, value, &ann) }
        refFrames.append((node.path + "/" + keyword, nodes[target].path))
        defer { refFrames.removeLast() }
        return inPlace(target, value, &ann)
    }

    // MARK: Errors

    /// Records a failure of keyword `suffix` (e.g. "/maximum") of `node` at the current instance location.
    func report(_ node: SchemaNode, _ suffix: String, _ message: String, at extra: PathToken? = nil) {
        var location = ""
        for token in instancePath { location += Evaluator.render(token) }
        if let extra { location += Evaluator.render(extra) }
        errors.append(ValidationError(instanceLocation: location, keywordLocation: keywordLocation(node, suffix), message: message))
    }

    static func render(_ token: PathToken) -> String {
        switch token {
        case .key(let k): return "/" + JSONPointer.escape(k)
        case .index(let i): return "/\(i)"
        }
    }

    /// The keyword location through every `$ref` taken to reach `node`.
    func keywordLocation(_ node: SchemaNode, _ suffix: String) -> String {
        var out = ""
        var base = ""
        for frame in refFrames {
            out += Evaluator.strip(frame.refPath, base)
            base = frame.targetPath
        }
        out += Evaluator.strip(node.path + suffix, base)
        return out
    }

    static func strip(_ path: String, _ prefix: String) -> String {
        path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }

    /// A short rendering of a value for messages.
    static func preview(_ value: JSONValue) -> String {
        switch value {
        case .string(let s):
            let text = JSONValue.string(s.count > 60 ? String(s.prefix(57)) + "..." : s).serialized()
            return text
        case .array(let a): return "an array of \(a.count) item\(a.count == 1 ? "" : "s")"
        case .object(let o): return "an object with \(o.count) propert\(o.count == 1 ? "y" : "ies")"
        default: return value.serialized()
        }
    }

    /// A short rendering of an allowed value or list of values.
    static func previewList(_ values: [JSONValue]) -> String {
        let shown = values.prefix(8).map { v -> String in
            let text = v.serialized()
            return text.count > 40 ? String(text.prefix(37)) + "..." : text
        }
        return shown.joined(separator: ", ") + (values.count > 8 ? ", ..." : "")
    }
}
