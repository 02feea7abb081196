import Foundation
import KaipmCore
import KaipmRegistry

/// The audit entry of one `kaipm run`: who ran which command of which plugin, with which
/// argument keys (never their values: they may be secrets), and how it went. A denial the
/// plugin met (EACCES, EROFS, ENETUNREACH, EPERM from seccomp) is in it as the error it raised.
struct CommandAudit {
    /// How a command went.
    enum Outcome: String {
        /// The plugin answered with a result.
        case ok
        /// The plugin (or its supervisor) answered with an error.
        case failed
        /// No answer in time.
        case timeout
        /// Nothing answered on the control socket.
        case unreachable
    }

    /// The detail's JSON: `{"args":["path"],"code":"CommandFailed","command":"read","message":"…","outcome":"failed"}`.
    struct Detail: Encodable {
        var command: String
        /// The argument keys, sorted.
        var args: [String]
        var outcome: String
        var code: String?
        var message: String?
    }

    /// Error messages are cut here: the entry says what happened, the plugin's log has the rest.
    static let messageLimit = 500

    var actor: String
    var plugin: String
    var command: String
    var argumentKeys: [String]

    /// The entry for an outcome, with the error's code and message when it failed.
    func draft(_ outcome: Outcome, code: String? = nil, message: String? = nil) -> AuditDraft {
        let detail = Detail(command: command, args: Array(Set(argumentKeys)).sorted(), outcome: outcome.rawValue,
                            code: code, message: message.map(Self.truncate))
        return AuditDraft(actor: actor, action: "command", detail: PlanRenderer.compactJSON(detail), runID: nil)
    }

    static func truncate(_ message: String) -> String {
        message.count > messageLimit ? String(message.prefix(messageLimit)) + "…" : message
    }

    /// Appends `draft` to the registry under `root`. Returns why it could not, instead of throwing:
    /// the command ran either way, and its answer must reach the caller. An apply holding the
    /// registry only delays the write (the registry's busy timeout).
    static func record(_ draft: AuditDraft, plugin: String, root: String) -> String? {
        let path = HostLayout(root: root).registry
        guard FileManager.default.fileExists(atPath: path) else {
            return "there is no registry at \(path)"
        }
        do {
            try Registry(path: path).recordEvent(draft, plugin: plugin)
            return nil
        } catch {
            return "\(error)"
        }
    }
}
