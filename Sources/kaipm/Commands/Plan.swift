import ArgumentParser
import Foundation
import KaipmCore
import KaipmEngine

extension Kaipm {
    /// `kaipm plan`: what apply would do, without doing it.
    struct Plan: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the actions that would converge this host, without changing it.")

        @OptionGroup var host: HostOptions
        @OptionGroup var desired: DesiredOptions

        @Option(help: "Output format: text, json or markdown.")
        var format: OutputFormat = .text

        @Flag(help: "No ANSI colours in text output.")
        var noColor = false

        @Flag(help: "Exit 0 when there is nothing to do, 2 when changes are pending, 1 on error.")
        var detailedExitcode = false

        @Option(help: ArgumentHelp("Save the plan for 'kaipm apply FILE'.", valueName: "file"))
        var out: String?

        func run() throws {
            let options = ReconcileOptions(root: host.resolvedRoot, source: desired.source, host: desired.hostName,
                                           command: CommandLine.arguments.joined(separator: " "), logger: host.bootstrapLogging())
            let plan = try runReporting { try Reconciler(options: options).plan() }
            if let out {
                try runReporting { try PlanRenderer.json(plan).write(toFile: absolute(out), atomically: true, encoding: .utf8) }
            }
            switch format {
            case .text: printOut(PlanRenderer.text(plan, color: useColor(noColor)))
            case .json: printOut(PlanRenderer.json(plan))
            case .markdown: printOut(PlanRenderer.markdown(plan))
            }
            if let out, format == .text { printOut("Saved to \(out). Apply exactly this plan with: kaipm apply \(out)\n") }
            if detailedExitcode && plan.hasChanges { throw ExitCode(2) }
        }
    }
}
