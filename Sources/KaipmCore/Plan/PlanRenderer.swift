import Foundation

/// Renders plans for people (text, Markdown) and machines (JSON).
public enum PlanRenderer {
    /// Output formats of `plan` and `diff`.
    public enum Format: String, Sendable, CaseIterable {
        case text, json, markdown
    }

    /// Stable JSON: sorted keys, pretty-printed, ending with a newline.
    public static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return "{}\n" }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    static let symbols: [ActionKind: (String, String)] = [
        .install: ("+", "32"), .activate: ("▲", "32"), .configure: ("~", "33"), .update: ("↑", "36"),
        .repair: ("!", "35"), .deactivate: ("▼", "31"), .remove: ("-", "31"),
        .start: ("▶", "32"), .restart: ("↻", "36"), .stop: ("■", "31"),
    ]

    /// Terminal text, coloured with ANSI escapes when `color` is true.
    public static func text(_ plan: Plan, color: Bool) -> String {
        func paint(_ text: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
        var out = "Plan for host \(plan.host) at \(plan.revision)\(plan.pinned ? "" : " (unpinned)")\n"
        if plan.actions.isEmpty {
            out += "No changes. The host matches the desired state.\n"
        }
        for action in plan.actions {
            let (symbol, code) = symbols[action.action] ?? ("?", "0")
            out += paint("  \(symbol) \(action.action.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(action.plugin)", code)
            out += "  (\(action.reason))\n"
            for change in action.changes {
                out += "      \(change.field): \(change.before ?? "∅") → \(change.after ?? "∅")\n"
            }
        }
        for blocked in plan.blocked {
            out += paint("  ✗ blocked    \(blocked.plugin)", "31;1") + "  (left as it is)\n"
            for problem in blocked.problems { out += "      \(problem)\n" }
        }
        for id in plan.suspended { out += "  ‖ suspended  \(id)\n" }
        for deferred in plan.deferred ?? [] {
            out += paint("  ⏸ deferred   \(deferred.plugin)", "33") + "  (\(deferred.action.rawValue): \(deferred.reason))\n"
        }
        for (plugin, events) in (plan.unaudited ?? [:]).sorted(by: { $0.key < $1.key }) {
            for event in events { out += paint("  ⚑ reported   \(plugin)", "35") + "  (\(event.summary); apply audits it)\n" }
        }
        for warning in plan.warnings { out += paint("  warning: ", "33") + warning + "\n" }
        if !plan.actions.isEmpty {
            out += "Plan: " + plan.summary.map { "\($0.1) to \($0.0.rawValue)" }.joined(separator: ", ") + ".\n"
        }
        return out
    }

    /// Markdown for a review comment.
    public static func markdown(_ plan: Plan) -> String {
        var out = "#### Host `\(plan.host)`\n\n"
        if plan.actions.isEmpty {
            out += "No changes.\n"
        } else {
            out += "| | action | plugin | reason | changes |\n|---|---|---|---|---|\n"
            for action in plan.actions {
                let changes = action.changes.map { "`\($0.field)`: \(code($0.before)) → \(code($0.after))" }.joined(separator: "<br>")
                out += "| \(symbols[action.action]?.0 ?? "") | \(action.action.rawValue) | `\(action.plugin)` | \(escape(action.reason)) | \(changes) |\n"
            }
            out += "\n**" + plan.summary.map { "\($0.1) to \($0.0.rawValue)" }.joined(separator: ", ") + "**\n"
        }
        if !plan.blocked.isEmpty {
            out += "\n:x: **Blocked** (left as they are):\n\n"
            for blocked in plan.blocked {
                for problem in blocked.problems { out += "- `\(blocked.plugin)`: \(escape(problem))\n" }
            }
        }
        if !plan.warnings.isEmpty {
            out += "\n:warning: Warnings:\n\n" + plan.warnings.map { "- \(escape($0))\n" }.joined()
        }
        return out
    }

    private static func code(_ value: String?) -> String {
        guard let value else { return "∅" }
        return "`" + value.replacingOccurrences(of: "`", with: "'").replacingOccurrences(of: "|", with: "\\|") + "`"
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}

extension PlanRenderer {
    /// Compact JSON with sorted keys: for registry columns and audit details.
    /// An object of strings, as `compactJSON` writes it (keys in `<` order), without an encoder:
    /// every action's audit entry has one.
    public static func compactJSON(_ value: [String: String]) -> String {
        var out = "{"
        for (index, key) in value.keys.sorted().enumerated() {
            if index > 0 { out += "," }
            out += ConfigValue.quote(key) + ":" + ConfigValue.quote(value[key] ?? "")
        }
        return out + "}"
    }

    /// A list of strings, as `compactJSON` writes it, without an encoder.
    public static func compactJSON(_ value: [String]) -> String {
        "[" + value.map(ConfigValue.quote).joined(separator: ",") + "]"
    }

    public static func compactJSON(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return "null" }
        return String(decoding: data, as: UTF8.self)
    }
}
