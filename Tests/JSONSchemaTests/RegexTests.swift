import JSONSchema
import Testing

/// ECMA-262 `pattern` behaviour, including the cases the fast matcher handles itself.
@Suite struct RegexTests {
    static let cases: [(String, String, Bool)] = [
        ("^[a-z][a-z0-9-]{1,62}$", "falcon-12", true),
        ("^[a-z][a-z0-9-]{1,62}$", "Falcon", false),
        ("^[a-z][a-z0-9-]{1,62}$", "a", false),
        (#"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$"#, "1.20", true),
        (#"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$"#, "01.2", false),
        ("ab|cd", "xxcdxx", true),
        ("^(ab|cd)+$", "abcdab", true),
        ("^(ab|cd)+$", "abc", false),
        (#"^\d+$"#, "১২", false),
        (#"^\w+$"#, "é", false),
        (#"^\s$"#, "\u{FEFF}", true),
        (#"^\S$"#, "\u{85}", true),
        ("^.$", "\n", false),
        ("^.$", "🐲", true),
        ("^🐲*$", "🐲🐲", true),
        ("^[^a-c]$", "é", true),
        (#"\bfoo\b"#, "a foo b", true),
        (#"\bfoo\b"#, "afoob", false),
        ("^a(?=b)", "ab", true),
        ("^a(?!b)", "ab", false),
        ("^a{2,3}?$", "aaa", true),
        ("abc$", "abc\n", false),
        (#"^\p{Letter}+$"#, "école", true),
        (#"^(a)\1$"#, "aa", true),
        (#"^[\u0041-\u005A]+$"#, "ABC", true),
        (#"^\/path$"#, "/path", true),
    ]

    @Test(arguments: cases)
    func pattern(pattern: String, input: String, expected: Bool) throws {
        let schema = try JSONSchema.compile(["pattern": .string(pattern)])
        #expect(schema.isValid(.string(input)) == expected, "\(pattern) on \(input)")
    }

    @Test func invalidPatternsAreCompileErrors() {
        for pattern in [#"\a"#, "(?i)x", "[a", "a{2,1}"] {
            #expect(throws: SchemaCompileError.self, "\(pattern)") { try JSONSchema.compile(["pattern": .string(pattern)]) }
        }
    }
}
