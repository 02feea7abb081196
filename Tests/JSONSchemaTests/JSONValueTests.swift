import Foundation
import JSONSchema
import Testing

/// Parsing, serialising and exact numbers.
@Suite struct JSONValueTests {
    @Test func exactDecimals() throws {
        let schema = try JSONSchema.compile(["multipleOf": 0.01])
        #expect(schema.isValid(0.07))
        #expect(schema.isValid(try JSONValue.parse("19.99")))
        #expect(!schema.isValid(0.075))
        let tenth = try JSONSchema.compile(["multipleOf": 0.1])
        #expect(tenth.isValid(try JSONValue.parse("4.5")))
        #expect(try JSONValue.parse("1.0") == 1)
        #expect(try JSONSchema.compile(["type": "integer"]).isValid(try JSONValue.parse("1.0")))
        #expect(try JSONSchema.compile(["const": 1]).isValid(try JSONValue.parse("1.00")))
        #expect(!(try JSONSchema.compile(["uniqueItems": true]).isValid(try JSONValue.parse("[1, 1.0]"))))
    }

    @Test func bigNumbers() throws {
        let big = try JSONValue.parse("12345678901234567890")
        #expect(try JSONSchema.compile(["type": "integer"]).isValid(big))
        #expect(!(try JSONSchema.compile(["maximum": try JSONValue.parse("12345678901234567889")]).isValid(big)))
        #expect(try JSONSchema.compile(["multipleOf": 10]).isValid(big))
        #expect(try JSONSchema.compile(["type": "integer", "multipleOf": 0.5]).isValid(try JSONValue.parse("1e308")))
        #expect(big.serialized() == "12345678901234567890")
        #expect(try JSONValue.parse("1.5e-7").serialized() == "1.5e-7")
        #expect(try JSONValue.parse("-0.25").serialized() == "-0.25")
    }

    @Test func parseErrorsHaveLineAndColumn() {
        do {
            _ = try JSONValue.parse("{\n  \"a\": 1,\n  \"b\": tru\n}")
            Issue.record("expected a parse error")
        } catch let error as JSONParseError {
            #expect(error.line == 3)
            #expect(error.column == 8)
        } catch {
            Issue.record("unexpected \(error)")
        }
        #expect(throws: JSONParseError.self) { try JSONValue.parse("[1,]") }
        #expect(throws: JSONParseError.self) { try JSONValue.parse("01") }
        #expect(throws: JSONParseError.self) { try JSONValue.parse("\"abc") }
    }

    @Test func roundTripKeepsKeyOrder() throws {
        let text = #"{"z":1,"a":[true,null,"x\n\"y\""],"m":{"k":-2.5e-10}}"#
        let value = try JSONValue.parse(text)
        #expect(value.serialized() == #"{"z":1,"a":[true,null,"x\n\"y\""],"m":{"k":-2.5e-10}}"#)
        #expect(value.objectValue?.keys == ["z", "a", "m"])
        #expect(try JSONValue.parse(value.serialized(pretty: true)) == value)
        #expect(try JSONValue.parse(#""\ud83d\ude00""#) == "😀")
    }

    @Test func constructors() {
        #expect(JSONValue(3) == 3)
        #expect(JSONValue(0.1) == .number(JSONNumber(parsing: "0.1")!))
        #expect(JSONValue(Decimal(string: "2.50")!) == 2.5)
        #expect(JSONValue("s") == "s")
        #expect(JSONValue([("b", 1), ("a", 2)]).objectValue?.keys == ["b", "a"])
        #expect(JSONValue(Double.nan) == .null)
    }
}

/// Draft-07 semantics chosen by `$schema`.
@Suite struct Draft7Tests {
    let meta: JSONValue = "http://json-schema.org/draft-07/schema#"

    @Test func refOverridesSiblings() throws {
        let schema = try JSONSchema.compile([
            "$schema": meta, "definitions": ["s": ["type": "string"]], "$ref": "#/definitions/s", "maxLength": 1,
        ])
        #expect(schema.isValid("long string"))
        #expect(!schema.isValid(1))
    }

    @Test func tupleItemsAndAdditionalItems() throws {
        let schema = try JSONSchema.compile([
            "$schema": meta, "items": [["type": "integer"], ["type": "string"]], "additionalItems": false,
        ])
        #expect(schema.isValid([1, "a"]))
        #expect(!schema.isValid([1, "a", 3]))
        #expect(!schema.isValid(["a"]))
    }

    @Test func dependencies() throws {
        let schema = try JSONSchema.compile([
            "$schema": meta,
            "dependencies": ["a": ["b"], "c": ["required": ["d"]]],
        ])
        #expect(schema.isValid(["a": 1, "b": 2]))
        #expect(!schema.isValid(["a": 1]))
        #expect(!schema.isValid(["c": 1]))
        #expect(schema.validate(["a": 1]).errors.first?.keywordLocation == "/dependencies/a")
    }

    @Test func draft7IgnoresNewerKeywords() throws {
        let schema = try JSONSchema.compile(["$schema": meta, "prefixItems": [["type": "string"]], "unevaluatedProperties": false])
        #expect(schema.isValid([1]))
        #expect(schema.isValid(["x": 1]))
    }

    @Test func defaultDraftOption() throws {
        let schema = try JSONSchema.compile(["items": [["type": "integer"]]], options: SchemaOptions(defaultDraft: .draft7))
        #expect(!schema.isValid(["a"]))
    }
}
