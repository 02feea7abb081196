import Foundation
import KaipmRegistry
import KaipmSandbox
import Logging

/// A running plugin's console log and control socket, for `kaipm logs` and `kaipm run`.
public struct PluginConsole: Sendable {
    public let root: String
    /// Where a command that could not be audited is reported (a warning).
    public var logger: Logger

    public init(root: String, logger: Logger = Logger(label: "kaipm", factory: { _ in SwiftLogNoOpLogHandler() })) {
        self.root = HostLayout(root: root).root
        self.logger = logger
    }

    /// The actor of a command run by hand: the user (behind sudo, the one who ran it) at this host.
    public static func defaultActor(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let user = environment["SUDO_USER"] ?? environment["USER"] ?? environment["LOGNAME"] ?? "uid\(getuid())"
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "localhost"
        return "\(user)@\(host)"
    }

    /// The answer of a command: the plugin's result (JSON text), or the error it answered with.
    public struct Answer: Sendable {
        public var ok: Bool
        /// The result as compact JSON when `ok`.
        public var resultJSON: String?
        /// The result's top-level members as `key: value` lines, when it is an object.
        public var resultLines: [String]?
        public var errorCode: String?
        public var errorMessage: String?
    }

    private func layout(_ id: String) throws(EngineError) -> SandboxLayout {
        guard SandboxSpec.isValidID(id) else { throw EngineError.unknownPlugin(id: id, reason: "not a valid plugin id") }
        return SandboxLayout(root: root, pluginID: id)
    }

    /// The last `lines` lines of the plugin's console log (reaching into the last rotated file if needed).
    public func logTail(_ id: String, lines: Int) throws(EngineError) -> String {
        let layout = try layout(id)
        var files: [String] = []
        for path in [layout.logFile + ".1", layout.logFile] where FileManager.default.fileExists(atPath: path) { files.append(path) }
        guard !files.isEmpty else {
            throw EngineError.io(operation: "read the console log of '\(id)' at", path: layout.logFile,
                                 reason: "there is none (has the plugin ever run?)")
        }
        let text = files.compactMap { try? String(contentsOfFile: $0, encoding: .utf8) }.joined()
        var all = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if all.last == "" { all.removeLast() }
        return all.suffix(max(0, lines)).map { $0 + "\n" }.joined()
    }

    /// Runs the plugin's `onCommand` with `args` over its control socket, and records it in the
    /// audit log as done by `actor` (see `CommandAudit`; a failure to record is logged as a warning).
    /// Each value is read as JSON when it is JSON (`3`, `true`, `"x"`, `[1]`), else taken as a string.
    public func run(_ id: String, command: String, args: [(String, String)], actor: String = PluginConsole.defaultActor(),
                    timeoutMilliseconds: Int = 10_000) throws(EngineError) -> Answer {
        let layout = try layout(id)
        let audit = CommandAudit(actor: actor, plugin: id, command: command, argumentKeys: args.map(\.0))
        let members = args.map { key, value -> JSON.Member in
            JSON.Member(key, (try? JSON(parsing: value)) ?? .string(value))
        }
        let answer: JSON
        do {
            answer = try ControlClient(layout: layout).exchange("command", [JSON.Member("command", .string(command)),
                                                                           JSON.Member("args", .object(members))],
                                                                timeoutMilliseconds: timeoutMilliseconds)
        } catch {
            let outcome: CommandAudit.Outcome
            switch error {
            case .timedOut: outcome = .timeout
            case .notRunning, .system: outcome = .unreachable
            default: outcome = .failed
            }
            record(audit.draft(outcome, code: error.code, message: error.description), plugin: id)
            throw EngineError.io(operation: "ask '\(id)' over its control socket", path: layout.socket, reason: "\(error)")
        }
        if answer["ok"]?.boolValue == true {
            record(audit.draft(.ok), plugin: id)
            let result = answer["result"] ?? .null
            let lines = result.objectValue?.map { "\($0.key): \($0.value.stringValue ?? $0.value.text)" }
            return Answer(ok: true, resultJSON: result.text, resultLines: lines)
        }
        let error = answer["error"]
        let failure = Answer(ok: false, errorCode: error?["code"]?.stringValue ?? "Unknown", errorMessage: error?["message"]?.stringValue ?? answer.text)
        // The supervisor answers Timeout itself when the plugin is too slow.
        record(audit.draft(failure.errorCode == "Timeout" ? .timeout : .failed, code: failure.errorCode, message: failure.errorMessage),
               plugin: id)
        return failure
    }

    private func record(_ draft: AuditDraft, plugin: String) {
        guard let problem = CommandAudit.record(draft, plugin: plugin, root: root) else { return }
        logger.warning("the command was not recorded in the audit log: \(problem)", metadata: ["plugin.id": "\(plugin)"])
    }
}
