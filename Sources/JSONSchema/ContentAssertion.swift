import Foundation

/// Draft-07's `contentEncoding` and `contentMediaType` as assertions on strings.
///
/// Draft-07 lets a validator check that a string decodes with its `contentEncoding` and parses as its
/// `contentMediaType`; 2019-09 and later make both annotations only, so only draft-07 schemas compile this.
/// Encodings and media types it does not know pass, as unknown formats do.
struct ContentAssertion: Sendable {
    /// The `contentEncoding` as written, nil when absent.
    let encoding: String?
    /// The `contentMediaType` as written, nil when absent.
    let mediaType: String?

    /// Whether the encoding is base64 (RFC 4648), the one encoding checked.
    private var isBase64: Bool { encoding?.lowercased() == "base64" }

    /// Whether the media type is JSON (`application/json` or a `+json` type, parameters ignored).
    private var isJSON: Bool {
        guard let mediaType else { return false }
        let essence = mediaType.split(separator: ";", maxSplits: 1).first.map(String.init) ?? mediaType
        let type = essence.trimmingCharacters(in: .whitespaces).lowercased()
        return type == "application/json" || (type.hasPrefix("application/") && type.hasSuffix("+json"))
    }

    /// Whether this assertion checks anything at all.
    var checksSomething: Bool { isBase64 || isJSON }

    /// Why `value` fails, or nil when it passes.
    func failure(_ value: String) -> String? {
        var bytes = Array(value.utf8)
        if isBase64 {
            guard let decoded = Data(base64Encoded: value) else { return "is not valid base64" }
            bytes = Array(decoded)
        }
        if isJSON, (try? JSONValue.parse(bytes)) == nil {
            return isBase64 ? "does not decode to a JSON document" : "is not a JSON document"
        }
        return nil
    }
}
