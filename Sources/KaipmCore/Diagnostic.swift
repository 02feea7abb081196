/// A place in a desired-state or plugin file: the file's path and a 1-based line and column.
public struct SourceLocation: Sendable, Hashable, Codable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int = 0, column: Int = 0) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`, or just the file when the position is unknown.
    public var description: String {
        line > 0 ? "\(file):\(line):\(column)" : file
    }
}

/// One problem found in the desired state or a plugin package: where, which plugin, what, and the fix.
///
/// Diagnostics are values, not thrown errors, so that one bad plugin entry blocks that plugin
/// while the others still converge.
public struct Diagnostic: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    public var location: SourceLocation?
    /// The plugin the problem blocks, when it concerns one.
    public var pluginID: String?
    /// What is wrong, as a sentence fragment without a trailing period.
    public var message: String
    /// What to do about it, if there is something better to say than the message implies.
    public var hint: String?

    public init(_ message: String, at location: SourceLocation? = nil, plugin: String? = nil, hint: String? = nil) {
        self.message = message
        self.location = location
        self.pluginID = plugin
        self.hint = hint
    }

    public var description: String {
        var text = ""
        if let location { text += "\(location): " }
        if let pluginID { text += "plugin '\(pluginID)': " }
        text += message
        if let hint { text += " (\(hint))" }
        return text
    }
}

/// Errors that stop a whole reconcile before planning (the fleet settings cannot be read, say).
public struct DesiredStateError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }

    public var description: String {
        diagnostics.map(\.description).joined(separator: "\n")
    }
}
