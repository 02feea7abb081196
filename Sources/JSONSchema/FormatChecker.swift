/// Checks strings against a named `format` (only applied to strings; other types always pass).
struct FormatChecker: Sendable {
    /// The format name as written in the schema.
    let name: String
    private let check: @Sendable (String) -> Bool

    /// The checker for `name`, or nil for a format this validator does not know (unknown formats pass).
    init?(name: String) {
        guard let check = Formats.checkers[name] else { return nil }
        self.name = name
        self.check = check
    }

    /// Whether `value` is valid for this format.
    func isValid(_ value: String) -> Bool { check(value) }
}
