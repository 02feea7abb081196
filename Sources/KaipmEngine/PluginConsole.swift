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
        let account = getpwuid(getuid()).map { String(cString: $0.pointee.pw_name) }
        let user = environment["SUDO_USER"] ?? environment["USER"] ?? environment["LOGNAME"] ?? account ?? "uid\(getuid())"
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

    /// Follows the plugin's console log as it grows (`tail -F`): hands each complete new line to
    /// `emit`, from the end of the file as it is now, across the supervisor's rotations (a new
    /// file, or one shorter than what was read: the rest of the rotated one is read first) and
    /// while the log does not exist yet. Polls every `interval` seconds; returns once `stop` says so.
    /// The last `lines` lines already there come first, read up to the same offset the following starts at.
    public func follow(_ id: String, lines: Int = 0, interval: Double = 0.1, stop: () -> Bool,
                       emit: (String) -> Void) throws(EngineError) {
        let path = try layout(id).logFile
        var reader = LogReader(path: path)
        reader.skipToEnd()
        if lines > 0 {
            var earlier: [String] = []
            if let rotated = FileManager.default.contents(atPath: path + ".1") {
                earlier += String(decoding: rotated, as: UTF8.self).split(separator: "\n").map(String.init)
            }
            if let handle = FileHandle(forReadingAtPath: path) {
                var data = (try? handle.read(upToCount: Int(reader.offset))) ?? Data()
                try? handle.close()
                // A line still being written is followed, not cut in two.
                let complete = (data.lastIndex(of: 0x0a).map { $0 + 1 } ?? data.startIndex) - data.startIndex
                reader.offset -= UInt64(data.count - complete)
                data = data.prefix(complete)
                earlier += String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
            }
            for line in earlier.suffix(lines) { emit(line) }
        }
        while !stop() {
            for line in reader.readLines() { emit(line) }
            if stop() { break }
            usleep(UInt32(interval * 1_000_000))
        }
        for line in reader.readLines() { emit(line) }
    }

    /// Reads the complete lines added to a log file since the last read, noticing rotation by inode.
    struct LogReader {
        let path: String
        var inode: UInt64?
        var offset: UInt64 = 0
        var partial = Data()

        init(path: String) { self.path = path }

        static func identity(_ path: String) -> (inode: UInt64, size: UInt64)? {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            return (UInt64(info.st_ino), UInt64(info.st_size))
        }

        mutating func skipToEnd() {
            guard let now = Self.identity(path) else { return }
            inode = now.inode
            offset = now.size
        }

        mutating func readLines() -> [String] {
            var lines: [String] = []
            guard let now = Self.identity(path) else { return lines }
            if let inode, inode != now.inode {
                // Rotated: finish the old file (now `<log>.1`, if it is still that one), then start the new one.
                if let rotated = Self.identity(path + ".1"), rotated.inode == inode {
                    lines += read(path + ".1", upTo: rotated.size)
                }
                offset = 0
                partial.removeAll()
            } else if now.size < offset {
                offset = 0
                partial.removeAll()
            }
            inode = now.inode
            lines += read(path, upTo: now.size)
            return lines
        }

        private mutating func read(_ file: String, upTo size: UInt64) -> [String] {
            guard size > offset, let handle = FileHandle(forReadingAtPath: file) else { return [] }
            defer { try? handle.close() }
            try? handle.seek(toOffset: offset)
            let data = (try? handle.read(upToCount: Int(size - offset))) ?? Data()
            offset += UInt64(data.count)
            partial.append(data)
            var lines: [String] = []
            while let newline = partial.firstIndex(of: 0x0a) {
                lines.append(String(decoding: partial[partial.startIndex..<newline], as: UTF8.self))
                partial.removeSubrange(partial.startIndex...newline)
            }
            return lines
        }
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
