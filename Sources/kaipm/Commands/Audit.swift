import ArgumentParser
import Foundation
import KaipmCore
import KaipmEngine

extension Kaipm {
    /// `kaipm audit`: the audit log.
    struct Audit: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the hash-chained audit log, newest first.")

        @OptionGroup var host: HostOptions

        @Option(help: ArgumentHelp("Only this plugin's entries.", valueName: "id"))
        var plugin: String?

        @Option(help: "How many entries.")
        var limit = 50

        @Option(help: "Output format: text or json.")
        var format: OutputFormat = .text

        func run() throws {
            let entries = try runReporting { try HostInspector(root: host.resolvedRoot).audit(plugin: plugin, limit: limit) }
            if format == .json {
                printOut(PlanRenderer.json(entries))
                return
            }
            let formatter = ISO8601DateFormatter()
            for entry in entries {
                printOut("\(entry.seq ?? 0)  \(formatter.string(from: Date(timeIntervalSince1970: entry.at)))  "
                         + "\(entry.actor)  \(entry.action)  \(entry.pluginID ?? "-")  \(entry.detail)\n")
            }
        }
    }
}
