import KaipmSandbox
import Testing

@Suite("JSON")
struct JSONTests {
    @Test(arguments: [
        #"{"id":1,"op":"command","args":{"x":[1,2.5,-3e2,true,false,null],"s":"a\"b\\c\n\u00e9\ud83d\ude00"}}"#,
        #"[]"#, #"{}"#, #""""#, #"0"#, #"-0.5"#,
    ])
    func roundTripsExactly(_ text: String) throws {
        let value = try JSON(parsing: text)
        #expect(try JSON(parsing: value.text) == value)
    }

    @Test func keepsNumbersAndKeyOrderAsWritten() throws {
        let value = try JSON(parsing: #" { "b" : 10000000000000000001 , "a" : 1.50 } "#)
        #expect(value.text == #"{"b":10000000000000000001,"a":1.50}"#)
        #expect(value["a"]?.doubleValue == 1.5)
        #expect(try JSON(parsing: #""\u00e9\ud83d\ude00""#) == .string("é😀"))
    }

    @Test(arguments: [
        ("", "unexpected end of text"), ("{", "expected a key string"), (#"{"a" 1}"#, "expected ':'"),
        ("[1,]", "unexpected character"), ("01", "a number has a leading zero"), (#""\x""#, "an unknown escape in a string"),
        ("[1] x", "unexpected text after the value"), (String(repeating: "[", count: 100), "nested deeper than 64 levels"),
        ("\"a\nb\"", "a control character in a string"), ("tru", "unexpected character"),
    ])
    func rejects(_ text: String, _ reason: String) {
        #expect {
            _ = try JSON(parsing: text)
        } throws: { error in
            (error as? JSON.ParseError)?.reason == reason
        }
    }

    @Test func escapesControlCharactersAndSeparators() {
        #expect(JSON.string("a\u{1}\u{2028}\t").text == #""a\u0001\u2028\t""#)
    }
}
