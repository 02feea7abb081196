import ArgumentParser
import Foundation
import KaipmCore
import KaipmEngine

extension Kaipm {
    /// `kaipm history`: past reconcile runs.
    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List past reconcile runs, newest first.")

        @OptionGroup var host: HostOptions

        @Option(help: "How many runs.")
        var limit = 20

        @Option(help: "Output format: text or json.")
        var format: OutputFormat = .text

        func run() throws {
            let runs = try runReporting { try HostInspector(root: host.resolvedRoot).history(limit: limit) }
            if format == .json {
                printOut(PlanRenderer.json(runs))
                return
            }
            let formatter = ISO8601DateFormatter()
            for run in runs {
                let started = formatter.string(from: Date(timeIntervalSince1970: run.startedAt))
                let took = run.finishedAt.map { String(format: "%.0f ms", ($0 - run.startedAt) * 1000) } ?? "-"
                printOut("#\(run.id ?? 0)  \(started)  \(run.outcome.padding(toLength: 11, withPad: " ", startingAt: 0)) "
                         + "\(run.revision.prefix(12))  host \(run.host)  \(took)  by \(run.actor)\n")
                if let error = run.error { printOut("    \(error.replacingOccurrences(of: "\n", with: "\n    "))\n") }
            }
        }
    }
}
