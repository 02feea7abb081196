/// Assertion keywords (type, enum, numbers, strings, counts).
extension Evaluator {
    /// Applies one keyword; returns whether it passed (errors are recorded when collecting).
    func apply(_ compiled: CompiledKeyword, _ node: SchemaNode, _ value: JSONValue, _ ann: inout Annotations) -> Bool {
        switch compiled.keyword {
        case .type(let set, let names):
            if set.matches(value) { return true }
            if collect {
                var found = value.typeName
                switch value {
                case .array, .object: break
                default: found += " " + Evaluator.preview(value)
                }
                report(node, "/type", "expected \(names.joined(separator: " or ")) but found \(found)")
            }
            return false
        case .enumeration(let values):
            if values.contains(value) { return true }
            if collect {
                report(node, "/enum", "\(Evaluator.preview(value)) is not one of the allowed values: \(Evaluator.previewList(values))")
            }
            return false
        case .const(let expected):
            if value == expected { return true }
            if collect { report(node, "/const", "\(Evaluator.preview(value)) is not the required value \(Evaluator.previewList([expected]))") }
            return false
        case .multipleOf(let divisor):
            guard case .number(let n) = value, !n.isMultiple(of: divisor) else { return true }
            if collect { report(node, "/multipleOf", "\(n) is not a multiple of \(divisor)") }
            return false
        case .maximum(let limit):
            guard case .number(let n) = value, limit < n else { return true }
            if collect { report(node, "/maximum", "\(n) is greater than the maximum \(limit)") }
            return false
        case .exclusiveMaximum(let limit):
            guard case .number(let n) = value, !(n < limit) else { return true }
            if collect { report(node, "/exclusiveMaximum", "\(n) is not less than the exclusive maximum \(limit)") }
            return false
        case .minimum(let limit):
            guard case .number(let n) = value, n < limit else { return true }
            if collect { report(node, "/minimum", "\(n) is less than the minimum \(limit)") }
            return false
        case .exclusiveMinimum(let limit):
            guard case .number(let n) = value, !(limit < n) else { return true }
            if collect { report(node, "/exclusiveMinimum", "\(n) is not greater than the exclusive minimum \(limit)") }
            return false
        case .maxLength(let limit):
            guard case .string(let s) = value, s.utf8.count > limit else { return true }
            let length = s.unicodeScalars.count
            if length <= limit { return true }
            if collect { report(node, "/maxLength", "\(Evaluator.preview(value)) is \(length) characters long, more than the maximum length \(limit)") }
            return false
        case .minLength(let limit):
            guard case .string(let s) = value else { return true }
            let length = s.unicodeScalars.count
            if length >= limit { return true }
            if collect { report(node, "/minLength", "\(Evaluator.preview(value)) is \(length) characters long, less than the minimum length \(limit)") }
            return false
        case .pattern(let regex):
            guard case .string(let s) = value, !regex.matches(s) else { return true }
            if collect { report(node, "/pattern", "\(Evaluator.preview(value)) does not match the pattern \(regex.source)") }
            return false
        case .format(let checker):
            guard case .string(let s) = value, !checker.isValid(s) else { return true }
            if collect { report(node, "/format", "\(Evaluator.preview(value)) is not a valid \(checker.name)") }
            return false
        case .content(let assertion):
            guard case .string(let s) = value, let reason = assertion.failure(s) else { return true }
            if collect { report(node, "/\(compiled.name)", "\(Evaluator.preview(value)) \(reason)") }
            return false
        case .maxItems(let limit):
            guard case .array(let a) = value, a.count > limit else { return true }
            if collect { report(node, "/maxItems", "array has \(a.count) items, more than the maximum \(limit)") }
            return false
        case .minItems(let limit):
            guard case .array(let a) = value, a.count < limit else { return true }
            if collect { report(node, "/minItems", "array has \(a.count) item\(a.count == 1 ? "" : "s"), fewer than the minimum \(limit)") }
            return false
        case .uniqueItems:
            guard case .array(let a) = value, a.count > 1 else { return true }
            var seen: [JSONValue: Int] = [:]
            for (i, element) in a.enumerated() {
                if let first = seen.updateValue(i, forKey: element) {
                    if collect { report(node, "/uniqueItems", "array items \(first) and \(i) are equal, but items must be unique") }
                    return false
                }
            }
            return true
        case .maxProperties(let limit):
            guard case .object(let o) = value, o.count > limit else { return true }
            if collect { report(node, "/maxProperties", "object has \(o.count) properties, more than the maximum \(limit)") }
            return false
        case .minProperties(let limit):
            guard case .object(let o) = value, o.count < limit else { return true }
            if collect { report(node, "/minProperties", "object has \(o.count) propert\(o.count == 1 ? "y" : "ies"), fewer than the minimum \(limit)") }
            return false
        case .required(let names):
            guard case .object(let o) = value else { return true }
            var valid = true
            for name in names where o.storage[name] == nil {
                valid = false
                if !collect { return false }
                report(node, "/required", "required property \(Evaluator.preview(.string(name))) is missing")
            }
            return valid
        case .dependentRequired(let pairs):
            guard case .object(let o) = value else { return true }
            var valid = true
            for (trigger, names) in pairs where o.storage[trigger] != nil {
                for name in names where o.storage[name] == nil {
                    valid = false
                    if !collect { return false }
                    report(node, "/\(compiled.name)/\(JSONPointer.escape(trigger))",
                           "property \(Evaluator.preview(.string(name))) is required when \(Evaluator.preview(.string(trigger))) is present")
                }
            }
            return valid
        default:
            return applyApplicator(compiled, node, value, &ann)
        }
    }
}
