import ArgumentParser
import Glibc
import Foundation
import KaipmEngine

extension Kaipm {
    /// `kaipm run`: one command of a running plugin, over its control socket.
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a command of a running plugin (its onCommand hook) and print the result.")

        @OptionGroup var host: HostOptions

        @Argument(help: "The plugin id.")
        var plugin: String

        @Argument(help: "The command name.")
        var command: String

        @Option(name: .customLong("arg"), help: ArgumentHelp("An argument, key=value; the value is read as JSON when it is JSON.", valueName: "key=value"))
        var arguments: [String] = []

        @Flag(help: "Print the result as JSON.")
        var json = false

        @Option(help: "Seconds to wait for the answer.")
        var timeout: Double = 10

        @Option(help: ArgumentHelp("Who is acting, for the audit log (default: user@host).", valueName: "name"))
        var actor: String?

        func run() throws {
            var pairs: [(String, String)] = []
            for argument in arguments {
                guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex else {
                    throw ValidationError("--arg takes key=value, not '\(argument)'")
                }
                pairs.append((String(argument[..<equals]), String(argument[argument.index(after: equals)...])))
            }
            // The command is audited; when the registry cannot be written, a warning says so and the answer still comes.
            let console = PluginConsole(root: host.resolvedRoot, logger: host.bootstrapLogging())
            let answer = try runReporting {
                try console.run(plugin, command: command, args: pairs, actor: actor ?? PluginConsole.defaultActor(),
                                timeoutMilliseconds: Int(timeout * 1000))
            }
            guard answer.ok else {
                FileHandle.standardError.write(Data("kaipm: error: plugin '\(plugin)': \(answer.errorCode ?? "Error"): \(answer.errorMessage ?? "")\n".utf8))
                throw ExitCode(1)
            }
            if json || answer.resultLines == nil {
                printOut((answer.resultJSON ?? "null") + "\n")
            } else {
                printOut(answer.resultLines!.map { $0 + "\n" }.joined())
            }
        }
    }

    /// `kaipm logs`: a plugin's console log.
    struct Logs: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the end of a plugin's console log.")

        @OptionGroup var host: HostOptions

        @Argument(help: "The plugin id.")
        var plugin: String

        @Option(help: "How many lines.")
        var tail = 50

        @Flag(name: [.short, .long], help: "Keep printing lines as the plugin writes them, across rotations, until interrupted.")
        var follow = false

        func run() throws {
            let console = PluginConsole(root: host.resolvedRoot)
            if follow {
                // Follows until interrupted: whatever started kaipm (a test runner, a service manager)
                // may have left these blocked or ignored.
                var interrupts = sigset_t()
                sigemptyset(&interrupts)
                for signal in [SIGINT, SIGTERM, SIGHUP, SIGPIPE] {
                    sigaddset(&interrupts, signal)
                    Glibc.signal(signal, SIG_DFL)
                }
                pthread_sigmask(SIG_UNBLOCK, &interrupts, nil)
                try runReporting {
                    try console.follow(plugin, lines: tail, stop: { false }) { line in printOut(line + "\n") }
                }
                return
            }
            printOut(try runReporting { try console.logTail(plugin, lines: tail) })
        }
    }
}
