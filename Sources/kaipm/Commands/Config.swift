import ArgumentParser
import KaipmCore
import KaipmEngine

extension Kaipm {
    /// `kaipm config`: plugin configs as the desired state makes them.
    struct Config: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Inspect plugin configs.",
            subcommands: [Show.self])
    }
}

extension Kaipm.Config {
    /// `kaipm config show ID`: the effective config with where each value came from.
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a plugin's effective config and where each value came from.",
            discussion: """
                Values come from the schema's defaults, then desired-state/config/plugins/<id>.config.yaml,
                then the host file's override. Without --host, no host override is applied. Secrets show as
                (secret). Exits 1 when the config violates the plugin's ui/config.schema.json.
                """)

        @OptionGroup var desired: DesiredOptions

        @Argument(help: ArgumentHelp("The plugin id.", valueName: "id"))
        var id: String

        @Option(help: "Output format: text or json.")
        var format: OutputFormat = .text

        func validate() throws {
            if format == .markdown { throw ValidationError("--format must be text or json.") }
        }

        func run() throws {
            let report = try runReporting { try ConfigInspector.show(desired.source, plugin: id, host: desired.host) }
            if format == .json {
                printOut(PlanRenderer.json(report))
            } else {
                printOut("Config of \(report.plugin) \(report.host.map { "on host \($0)" } ?? "without a host override") "
                         + "at \(report.revision)\n")
                var rows = [["KEY", "VALUE", "FROM", "AT"]]
                rows += report.values.map { [$0.path, $0.secret ? Planner.mask : $0.value.inlineText, $0.source, $0.location] }
                let widths = (0..<3).map { column in rows.map { $0[column].count }.max() ?? 0 }
                for row in rows {
                    printOut(row.enumerated().map { $0 < 3 ? $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) : $1 }
                        .joined(separator: "  ") + "\n")
                }
                if report.values.isEmpty { printOut("(no settings)\n") }
                for problem in report.problems { printOut("error: \(problem)\n") }
            }
            if !report.problems.isEmpty { throw ExitCode.failure }
        }
    }
}
