/// A compiled JSON Schema (2020-12 by default, or draft-07/2019-09 by `$schema`), reusable and thread-safe.
public struct JSONSchema: Sendable {
    let program: SchemaProgram

    /// Compiles a schema; throws `SchemaCompileError` (with the keyword location) when it is invalid.
    public static func compile(_ schema: JSONValue, options: SchemaOptions = SchemaOptions()) throws -> JSONSchema {
        let compiler = SchemaCompiler(options: options)
        return JSONSchema(program: try compiler.compile(schema))
    }

    /// Parses JSON text and compiles it; throws `JSONParseError` or `SchemaCompileError`.
    public static func compile(json text: String, options: SchemaOptions = SchemaOptions()) throws -> JSONSchema {
        try compile(try JSONValue.parse(text), options: options)
    }

    /// Validates an instance, collecting every error with its locations and message.
    public func validate(_ instance: JSONValue) -> ValidationResult {
        let evaluator = Evaluator(program: program, collect: true)
        var annotations = Annotations()
        _ = evaluator.eval(program.root, instance, &annotations)
        return ValidationResult(errors: evaluator.errors)
    }

    /// Whether an instance is valid, stopping at the first failure (faster than `validate`).
    public func isValid(_ instance: JSONValue) -> Bool {
        let evaluator = Evaluator(program: program, collect: false)
        var annotations = Annotations()
        return evaluator.eval(program.root, instance, &annotations)
    }
}
