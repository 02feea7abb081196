/// Array and object applicators: items, contains and the properties family.
extension Evaluator {
    func applyItems(_ node: SchemaNode, _ prefix: [Int], _ rest: Int?, _ restKeyword: String, _ value: JSONValue,
                    _ ann: inout Annotations) -> Bool
    {
        guard case .array(let a) = value else { return true }
        var valid = true
        for (i, element) in a.enumerated() {
            let index: Int
            if i < prefix.count {
                index = prefix[i]
            } else if let rest {
                if nodes[rest].constant == false {
                    if collect {
                        report(node, "/\(restKeyword)",
                               "array has \(a.count) items, but only \(prefix.count) \(prefix.count == 1 ? "is" : "are") allowed (\(restKeyword) is false)")
                    }
                    return false
                }
                index = rest
            } else {
                break
            }
            if !child(index, element, .index(i)) {
                valid = false
                if !collect { return false }
            }
        }
        if track && valid {
            if rest != nil { ann.allItems = true } else { ann.itemsUpTo = max(ann.itemsUpTo, min(prefix.count, a.count)) }
        }
        return valid
    }

    func applyContains(_ node: SchemaNode, _ index: Int, _ minimum: Int, _ maximum: Int?, _ value: JSONValue,
                       _ ann: inout Annotations) -> Bool
    {
        guard case .array(let a) = value else { return true }
        var count = 0
        var indices: [Int] = []
        quietly {
            for (i, element) in a.enumerated() {
                var scratch = Annotations()
                if eval(index, element, &scratch) {
                    count += 1
                    if track { indices.append(i) }
                    if !track && maximum == nil && count >= minimum { break }
                }
            }
        }
        if count < minimum {
            if collect {
                if minimum == 1 {
                    report(node, "/contains", "array does not contain any item matching the contains schema")
                } else {
                    report(node, "/minContains", "array contains \(count) matching item\(count == 1 ? "" : "s"), fewer than minContains \(minimum)")
                }
            }
            return false
        }
        if let maximum, count > maximum {
            if collect { report(node, "/maxContains", "array contains \(count) matching items, more than maxContains \(maximum)") }
            return false
        }
        if track { ann.containsIndices.formUnion(indices) }
        return true
    }

    func applyProperties(_ node: SchemaNode, _ named: [String: Int], _ patterns: [(ECMARegex, Int)], _ additional: Int?,
                         _ value: JSONValue, _ ann: inout Annotations) -> Bool
    {
        guard case .object(let o) = value else { return true }
        var valid = true
        let additionalIsFalse = additional.map { nodes[$0].constant == false } ?? false
        for key in o.keys {
            guard let member = o.storage[key] else { continue }
            var matched = false
            if let index = named[key] {
                matched = true
                if !child(index, member, .key(key)) {
                    valid = false
                    if !collect { return false }
                }
            }
            for (regex, index) in patterns where regex.matches(key) {
                matched = true
                if !child(index, member, .key(key)) {
                    valid = false
                    if !collect { return false }
                }
            }
            if !matched, let additional {
                matched = true
                if additionalIsFalse {
                    valid = false
                    if !collect { return false }
                    report(node, "/additionalProperties", "property \(Evaluator.preview(.string(key))) is not allowed")
                } else if !child(additional, member, .key(key)) {
                    valid = false
                    if !collect { return false }
                }
            }
            if matched && track { ann.properties.insert(key) }
        }
        return valid
    }
}
