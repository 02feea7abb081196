import ArgumentParser
import Foundation
import KaipmEngine
import Logging

/// Options every command that touches a host takes.
struct HostOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The host's root folder (default: $KAIPM_ROOT, else /).", valueName: "path"))
    var root: String?

    @Flag(name: .shortAndLong, help: "Say more about what happens.")
    var verbose = false

    /// Sends kaipm's log to stderr: debug level (with phase timings) under --verbose, else warnings only.
    func bootstrapLogging() -> Logger {
        let level: Logger.Level = verbose ? .debug : .warning
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "kaipm")
    }

    /// The root in force: the flag, then KAIPM_ROOT, then `/`.
    var resolvedRoot: String {
        let raw = root ?? ProcessInfo.processInfo.environment["KAIPM_ROOT"] ?? "/"
        return raw.hasPrefix("/") ? raw : FileManager.default.currentDirectoryPath + "/" + raw
    }
}

/// Where the desired state comes from.
struct DesiredOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The git repository holding the desired state (default: the current folder).", valueName: "path"))
    var repo: String?

    @Option(help: ArgumentHelp("The revision to read: a commit, branch, tag or origin/main.", valueName: "rev"))
    var rev = "HEAD"

    @Option(help: ArgumentHelp("The desired-state folder inside the repository.", valueName: "path"))
    var path = "desired-state"

    @Option(help: ArgumentHelp("Read a plain folder instead of git (the run is recorded as unpinned).", valueName: "path"))
    var dir: String?

    @Flag(help: "Fetch the repository's remote first (then use --rev origin/main).")
    var fetch = false

    @Option(help: ArgumentHelp("The host to plan for (default: this machine's hostname).", valueName: "name"))
    var host: String?

    func validate() throws {
        if dir != nil && fetch { throw ValidationError("--fetch reads from git; it cannot be combined with --dir.") }
        if dir != nil && rev != "HEAD" { throw ValidationError("--rev selects a git revision; it cannot be combined with --dir.") }
    }

    var repoPath: String { absolute(repo ?? ".") }

    var source: DesiredSource {
        if let dir { return .dir(path: absolute(dir), sourceRoot: repoPath) }
        return .git(repo: repoPath, rev: rev, path: path, fetch: fetch)
    }

    var hostName: String { host ?? ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "localhost" }
}

func absolute(_ path: String) -> String {
    let full = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    return URL(fileURLWithPath: full).standardizedFileURL.path
}

/// Output formats of the reporting commands.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json, markdown
}

/// Whether to colour text output: only on a terminal, never with --no-color or NO_COLOR.
func useColor(_ noColor: Bool) -> Bool {
    !noColor && ProcessInfo.processInfo.environment["NO_COLOR"] == nil && isatty(1) == 1
}

/// Runs engine code, turning its errors into a message on stderr and exit code 1.
func runReporting<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as ExitCode {
        throw error
    } catch {
        FileHandle.standardError.write(Data("kaipm: error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}

func printOut(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}
