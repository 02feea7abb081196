import JSONSchema
import Testing

/// Error messages, instance locations and keyword locations.
@Suite struct ErrorReportingTests {
    static let config: JSONValue = [
        "type": "object",
        "properties": [
            "refreshMinutes": ["type": "integer", "maximum": 1440],
            "name": ["$ref": "#/$defs/name"],
            "tags": ["type": "array", "items": ["type": "string"]],
        ],
        "required": ["name"],
        "additionalProperties": false,
        "$defs": ["name": ["type": "string", "pattern": "^[a-z]+$"]],
    ]

    @Test func maximumMessage() throws {
        let schema = try JSONSchema.compile(Self.config)
        let result = schema.validate(["name": "ok", "refreshMinutes": 2000])
        #expect(!result.isValid)
        #expect(result.errors.count == 1)
        let error = try #require(result.errors.first)
        #expect(error.description == "/refreshMinutes: 2000 is greater than the maximum 1440")
        #expect(error.instanceLocation == "/refreshMinutes")
        #expect(error.keywordLocation == "/properties/refreshMinutes/maximum")
    }

    @Test func requiredAndAdditionalProperties() throws {
        let schema = try JSONSchema.compile(Self.config)
        let result = schema.validate(["extra": true])
        #expect(result.errors.map(\.keywordLocation) == ["/required", "/additionalProperties"])
        #expect(result.errors[0].message == #"required property "name" is missing"#)
        #expect(result.errors[0].instanceLocation == "")
        #expect(result.errors[1].message == #"property "extra" is not allowed"#)
    }

    @Test func locationsThroughRefAndItems() throws {
        let schema = try JSONSchema.compile(Self.config)
        let result = schema.validate(["name": "Bad", "tags": ["a", 3]])
        #expect(result.errors.count == 2)
        #expect(result.errors[0].instanceLocation == "/name")
        #expect(result.errors[0].keywordLocation == "/properties/name/$ref/pattern")
        #expect(result.errors[0].message == #""Bad" does not match the pattern ^[a-z]+$"#)
        #expect(result.errors[1].instanceLocation == "/tags/1")
        #expect(result.errors[1].keywordLocation == "/properties/tags/items/type")
        #expect(result.errors[1].message == "expected string but found integer 3")
    }

    @Test func anyOfExplainsAlternatives() throws {
        let schema = try JSONSchema.compile(["anyOf": [["type": "string"], ["type": "integer", "minimum": 10]]])
        let result = schema.validate(3)
        #expect(result.errors.count == 1)
        #expect(result.errors[0].keywordLocation == "/anyOf")
        #expect(result.errors[0].message.contains("3 is less than the minimum 10"))
    }

    @Test func escapedPointerTokens() throws {
        let schema = try JSONSchema.compile(["properties": ["a/b~c": ["type": "string"]]])
        let result = schema.validate(["a/b~c": 1])
        #expect(result.errors.first?.instanceLocation == "/a~1b~0c")
        #expect(result.errors.first?.keywordLocation == "/properties/a~1b~0c/type")
    }

    @Test func formatIsAnnotationUnlessAsked() throws {
        let plain = try JSONSchema.compile(["format": "date"])
        #expect(plain.isValid("not a date"))
        let asserting = try JSONSchema.compile(["format": "date"], options: SchemaOptions(formatAssertion: true))
        #expect(!asserting.isValid("2021-02-29"))
        #expect(asserting.isValid("2024-02-29"))
        #expect(asserting.validate("x").errors.first?.message == #""x" is not a valid date"#)
    }
}

/// Schemas that cannot be compiled.
@Suite struct CompileErrorTests {
    @Test func wrongKeywordType() {
        #expect(throws: SchemaCompileError.self) { try JSONSchema.compile(["minimum": "ten"]) }
        do {
            _ = try JSONSchema.compile(["properties": ["a": ["maxLength": -1]]])
            Issue.record("expected a compile error")
        } catch let error as SchemaCompileError {
            #expect(error.keywordLocation.hasSuffix("#/properties/a/maxLength"))
            #expect(error.message.contains("non-negative integer"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func badRegexAndType() throws {
        #expect(throws: SchemaCompileError.self) { try JSONSchema.compile(["pattern": "(unclosed"]) }
        #expect(throws: SchemaCompileError.self) { try JSONSchema.compile(["type": "strin"]) }
        #expect(throws: SchemaCompileError.self) { try JSONSchema.compile(["multipleOf": 0]) }
    }

    @Test func unresolvableReference() {
        do {
            _ = try JSONSchema.compile(["$ref": "#/$defs/missing"])
            Issue.record("expected a compile error")
        } catch let error as SchemaCompileError {
            #expect(error.keywordLocation.hasSuffix("#/$ref"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func resolverServesOtherDocuments() throws {
        let resolver = InMemorySchemaResolver(["https://example.com/port.json": ["type": "integer", "maximum": 65535]])
        let schema = try JSONSchema.compile(["properties": ["port": ["$ref": "https://example.com/port.json"]]],
                                            options: SchemaOptions(resolver: resolver))
        #expect(schema.isValid(["port": 80]))
        #expect(schema.validate(["port": 70000]).errors.first?.keywordLocation == "/properties/port/$ref/maximum")
        #expect(throws: SchemaCompileError.self) { try JSONSchema.compile(["$ref": "https://example.com/other.json"]) }
    }
}
