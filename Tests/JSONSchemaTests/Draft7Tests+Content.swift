import JSONSchema
import Testing

/// Draft-07 content assertions, plain-name `$id` anchors and the built-in metaschema, pinned here because the
/// shared copy of the test suite has no `tests/draft7`.
extension Draft7Tests {
    @Test func contentMediaTypeAssertsJSON() throws {
        let schema = try JSONSchema.compile(["$schema": meta, "contentMediaType": "application/json"])
        #expect(schema.isValid(#"{"a": 1}"#))
        #expect(schema.isValid(3))
        #expect(!schema.isValid("{:}"))
        #expect(schema.validate("{:}").errors.first?.keywordLocation == "/contentMediaType")
    }

    @Test func contentEncodingDecodesBase64BeforeTheMediaType() throws {
        let schema = try JSONSchema.compile(["$schema": meta, "contentEncoding": "base64", "contentMediaType": "application/json"])
        #expect(schema.isValid("eyJhIjogMX0="))
        #expect(!schema.isValid("eyJhIjog%X0="))
        #expect(!schema.isValid("ezp9Cg=="))
    }

    @Test func unknownContentEncodingPasses() throws {
        let schema = try JSONSchema.compile(["$schema": meta, "contentEncoding": "quoted-printable", "contentMediaType": "image/png"])
        #expect(schema.isValid("anything"))
    }

    @Test func contentIsOnlyAnAnnotationIn2020_12() throws {
        let schema = try JSONSchema.compile(["contentEncoding": "base64", "contentMediaType": "application/json"])
        #expect(schema.isValid("not base64 %"))
    }

    @Test func plainNameIDIsAnAnchor() throws {
        let schema = try JSONSchema.compile([
            "$schema": meta, "allOf": [["$ref": "#int"]], "definitions": ["i": ["$id": "#int", "type": "integer"]],
        ])
        #expect(schema.isValid(1))
        #expect(!schema.isValid("a"))
    }

    @Test func metaschemaValidatesDraft7Schemas() throws {
        let schema = try JSONSchema.compile(["$ref": meta])
        #expect(schema.isValid(["minLength": 1, "items": [["type": "string"]], "dependencies": ["a": ["b"]]]))
        #expect(!schema.isValid(["minLength": -1]))
    }
}
