/// The format checks by name.
enum Formats {
    /// Checkers for every supported format.
    static let checkers: [String: @Sendable (String) -> Bool] = [:]
}
