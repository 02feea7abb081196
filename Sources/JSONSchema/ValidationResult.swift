/// One failed assertion: where in the instance, which keyword, and why.
public struct ValidationError: Sendable, Equatable, CustomStringConvertible {
    /// JSON pointer to the failing part of the instance ("" is the whole document).
    public let instanceLocation: String
    /// JSON pointer through the schema (following `$ref`s) to the failing keyword.
    public let keywordLocation: String
    /// A sentence for a person, without the location.
    public let message: String

    /// Creates an error.
    public init(instanceLocation: String, keywordLocation: String, message: String) {
        self.instanceLocation = instanceLocation
        self.keywordLocation = keywordLocation
        self.message = message
    }

    /// `/refreshMinutes: 2000 is greater than the maximum 1440` (the root is shown as `/`).
    public var description: String { "\(instanceLocation.isEmpty ? "/" : instanceLocation): \(message)" }
}

/// The outcome of validating one instance.
public struct ValidationResult: Sendable, Equatable {
    /// Every failed assertion, in schema order (empty when valid).
    public let errors: [ValidationError]
    /// Whether the instance satisfies the schema.
    public var isValid: Bool { errors.isEmpty }
    /// Creates a result.
    public init(errors: [ValidationError]) { self.errors = errors }
}

/// A schema that cannot be compiled, with the JSON pointer of the offending keyword.
public struct SchemaCompileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where in the schema (URI of the document plus JSON pointer fragment).
    public let keywordLocation: String
    /// What is wrong.
    public let message: String
    /// Creates a compile error.
    public init(keywordLocation: String, message: String) {
        self.keywordLocation = keywordLocation
        self.message = message
    }
    /// `location: message`.
    public var description: String { "\(keywordLocation): \(message)" }
}
