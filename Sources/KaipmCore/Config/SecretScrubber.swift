import JSONSchema

/// Removes secret values from a validator's messages before they reach a plan, a condition or
/// the audit log.
///
/// A message quotes the value at its own location (`"hunter2" is too short`) and, for `anyOf`
/// and `oneOf`, values below it. So a message at, inside or above a secret has every secret
/// value under its location replaced by `(secret)`: JSON-quoted, as previewed (cut at 57
/// characters) and bare; numbers and booleans only where they stand as a whole word.
struct SecretScrubber {
    let config: ConfigValue
    let secrets: Set<String>

    func scrub(_ message: String, at tokens: [String]) -> String {
        guard !secrets.isEmpty, let value = config.value(at: tokens) else { return message }
        var texts: [ConfigValue] = []
        collect(value, tokens, inSecret: !tokens.isEmpty && ConfigSecrets.isSecret(PointerTokens.dotted(tokens), in: secrets),
                into: &texts)
        var result = message
        for secret in texts {
            switch secret {
            case let .string(text) where !text.isEmpty:
                // Quoted forms first; bare ones only when long enough not to hit ordinary words.
                var forms = [JSONValue.string(text).serialized()]
                var bare = [text]
                if text.count > 60 {
                    forms.append(JSONValue.string(String(text.prefix(57)) + "...").serialized())
                    bare.append(String(text.prefix(57)))
                }
                forms += bare.filter { $0.count >= 4 }
                for form in forms { result = result.replacing(form, with: Planner.mask) }
            case .string:
                result = result.replacing("\"\"", with: Planner.mask)
            case .int, .number, .bool:
                result = Self.replaceWords(secret.inlineText, in: result)
            case .null, .list, .map:
                break
            }
        }
        return result
    }

    /// Every scalar at or below a secret under `value`.
    private func collect(_ value: ConfigValue, _ tokens: [String], inSecret: Bool, into texts: inout [ConfigValue]) {
        switch value {
        case let .map(map):
            for (key, inner) in map {
                let path = tokens + [key]
                collect(inner, path, inSecret: inSecret || ConfigSecrets.isSecret(PointerTokens.dotted(path), in: secrets), into: &texts)
            }
        case let .list(items):
            for (index, inner) in items.enumerated() {
                let path = tokens + [String(index)]
                collect(inner, path, inSecret: inSecret || ConfigSecrets.isSecret(PointerTokens.dotted(path), in: secrets), into: &texts)
            }
        default:
            if inSecret { texts.append(value) }
        }
    }

    /// Replaces `word` where it is not part of a longer number or name.
    static func replaceWords(_ word: String, in text: String) -> String {
        guard !word.isEmpty, text.contains(word) else { return text }
        func isWordCharacter(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "." || c == "_" || c == "-" }
        var result = ""
        var rest = Substring(text)
        while let range = rest.range(of: word) {
            let before = range.lowerBound == rest.startIndex ? result.last : rest[rest.index(before: range.lowerBound)]
            var standsAlone = !(before.map(isWordCharacter) ?? false)
            if range.upperBound < rest.endIndex, isWordCharacter(rest[range.upperBound]) {
                // A full stop ends a sentence; a dot followed by a digit continues the number.
                let following = rest[range.upperBound...].dropFirst().first
                standsAlone = standsAlone && rest[range.upperBound] == "." && !(following?.isNumber ?? false)
            }
            result += rest[..<range.lowerBound]
            result += standsAlone ? Planner.mask : word
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
