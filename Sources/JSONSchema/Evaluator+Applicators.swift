/// Applicator keywords: references, combinators, conditionals, items, properties and unevaluated*.
extension Evaluator {
    /// Applies a keyword that evaluates subschemas.
    func applyApplicator(_ compiled: CompiledKeyword, _ node: SchemaNode, _ value: JSONValue, _ ann: inout Annotations) -> Bool {
        switch compiled.keyword {
        case .ref(let target):
            return follow(node, "$ref", target, value, &ann)
        case .dynamicRef(var target, let anchor):
            if let anchor {
                for r in scope {
                    if let found = resources[r].dynamicAnchors[anchor] { target = found; break }
                }
            }
            return follow(node, "$dynamicRef", target, value, &ann)
        case .recursiveRef(var target, let dynamic):
            if dynamic {
                for r in scope {
                    if let found = resources[r].recursiveAnchor { target = found; break }
                }
            }
            return follow(node, "$recursiveRef", target, value, &ann)
        case .allOf(let list):
            var valid = true
            for index in list where !inPlace(index, value, &ann) {
                valid = false
                if !collect { return false }
            }
            return valid
        case .anyOf(let list):
            var matched = false
            quietly {
                for index in list where inPlace(index, value, &ann) {
                    matched = true
                    if !track { break }
                }
            }
            if matched { return true }
            if collect { report(node, "/anyOf", "value does not match any of the \(list.count) alternatives in anyOf" + reasons(list, value)) }
            return false
        case .oneOf(let list):
            var passing: [Int] = []
            quietly {
                for (i, index) in list.enumerated() {
                    var sub = Annotations()
                    if eval(index, value, &sub) {
                        passing.append(i)
                        if passing.count == 1 { ann.merge(sub) } else { break }
                    }
                }
            }
            if passing.count == 1 { return true }
            if collect {
                if passing.isEmpty {
                    report(node, "/oneOf", "value does not match any of the \(list.count) alternatives in oneOf" + reasons(list, value))
                } else {
                    report(node, "/oneOf", "value matches alternatives \(passing[0]) and \(passing[1]) of oneOf, but must match exactly one")
                }
            }
            return false
        case .not(let index):
            let matched = quietly { () -> Bool in
                var scratch = Annotations()
                return eval(index, value, &scratch)
            }
            if !matched { return true }
            if collect { report(node, "/not", "\(Evaluator.preview(value)) must not match the schema in not") }
            return false
        case .conditional(let ifIndex, let thenIndex, let elseIndex):
            var sub = Annotations()
            let condition = quietly { eval(ifIndex, value, &sub) }
            if condition {
                if track { ann.merge(sub) }
                if let thenIndex { return inPlace(thenIndex, value, &ann) }
            } else if let elseIndex {
                return inPlace(elseIndex, value, &ann)
            }
            return true
        case .dependentSchemas(let pairs):
            guard case .object(let o) = value else { return true }
            var valid = true
            for (trigger, index) in pairs where o.storage[trigger] != nil && !inPlace(index, value, &ann) {
                valid = false
                if !collect { return false }
            }
            return valid
        case .items(let prefix, let rest, let restKeyword):
            return applyItems(node, prefix, rest, restKeyword, value, &ann)
        case .contains(let index, let min, let max):
            return applyContains(node, index, min, max, value, &ann)
        case .properties(let named, let patterns, let additional):
            return applyProperties(node, named, patterns, additional, value, &ann)
        case .propertyNames(let index):
            guard case .object(let o) = value else { return true }
            var valid = true
            for key in o.keys {
                var scratch = Annotations()
                if !eval(index, .string(key), &scratch) {
                    valid = false
                    if !collect { return false }
                }
            }
            return valid
        case .unevaluatedItems(let index):
            guard case .array(let a) = value, !ann.allItems else { return true }
            var valid = true
            for i in ann.itemsUpTo..<a.count where !ann.containsIndices.contains(i) {
                if nodes[index].constant == false {
                    if collect { report(node, "/unevaluatedItems", "item \(i) is not allowed (no subschema evaluates it and unevaluatedItems is false)") }
                    return false
                }
                if !child(index, a[i], .index(i)) {
                    valid = false
                    if !collect { return false }
                }
            }
            if valid { ann.allItems = true }
            return valid
        case .unevaluatedProperties(let index):
            guard case .object(let o) = value, !ann.allProperties else { return true }
            var valid = true
            for key in o.keys where !ann.properties.contains(key) {
                guard let member = o.storage[key] else { continue }
                if nodes[index].constant == false {
                    valid = false
                    if !collect { return false }
                    report(node, "/unevaluatedProperties",
                           "property \(Evaluator.preview(.string(key))) is not allowed (no subschema evaluates it and unevaluatedProperties is false)")
                    continue
                }
                if !child(index, member, .key(key)) {
                    valid = false
                    if !collect { return false }
                }
            }
            if valid { ann.allProperties = true }
            return valid
        default:
            return true
        }
    }

    /// A summary of why each alternative failed, for anyOf/oneOf messages.
    func reasons(_ list: [Int], _ value: JSONValue) -> String {
        var parts: [String] = []
        for (i, index) in list.enumerated() {
            let savedErrors = errors
            errors = []
            var scratch = Annotations()
            _ = eval(index, value, &scratch)
            if let first = errors.first {
                let here = instancePath.map(Evaluator.render).joined()
                let at = first.instanceLocation == here ? "" : String(first.instanceLocation.dropFirst(here.count)) + ": "
                parts.append("\(i): \(at)\(first.message)")
            }
            errors = savedErrors
        }
        return parts.isEmpty ? "" : " (" + parts.joined(separator: "; ") + ")"
    }
}
