import ArgumentParser
import KaipmCore
import KaipmEngine

extension Kaipm {
    /// `kaipm status`: what the host has.
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show installed plugins with version, checksum, state, conditions and the last applied revision.")

        @OptionGroup var host: HostOptions

        @Option(help: "Output format: text or json.")
        var format: OutputFormat = .text

        func run() throws {
            let status = try runReporting { try HostInspector(root: host.resolvedRoot).status() }
            if format == .json {
                printOut(PlanRenderer.json(status))
                return
            }
            printOut("Root: \(status.root)\n")
            printOut("Last applied revision: \(status.lastAppliedRevision ?? "none")")
            printOut(status.lastRunOutcome.map { "   last run: \($0) at \(status.lastRunAt ?? "?")\n" } ?? "\n")
            if let sandboxes = status.sandboxes { printOut("Sandboxes: \(sandboxes)\n") }
            if status.plugins.isEmpty {
                printOut("No plugins installed.\n")
                return
            }
            let running = status.plugins.contains { $0.sandbox != nil }
            let header = ["PLUGIN", "VERSION", "STATE", "CHECKSUM", "REVISION"] + (running ? ["SANDBOX", "RESTARTS"] : [])
            var rows = [header]
            for plugin in status.plugins {
                rows.append([plugin.id, plugin.version, plugin.state, String(plugin.checksum.prefix(15)) + "…",
                             String(plugin.revision.prefix(12))]
                            + (running ? [Self.sandboxColumn(plugin), plugin.restarts.map(String.init) ?? "-"] : []))
            }
            let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
            for row in rows {
                printOut(row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                    .joined(separator: "  ") + "\n")
            }
            for plugin in status.plugins {
                for condition in plugin.conditions where condition.type == "Blocked" || condition.status == "False" && condition.reason != "Inactive" {
                    printOut("  \(plugin.id): \(condition.type)=\(condition.status) \(condition.reason): \(condition.message)\n")
                }
            }
        }

        /// `running`, `stopped`, `dead (…)`; with `, unsandboxed` for a plugin that runs without bubblewrap.
        static func sandboxColumn(_ plugin: PluginStatus) -> String {
            let state = plugin.sandbox ?? "-"
            return plugin.isolation == "unsandboxed" ? state + ", unsandboxed" : state
        }
    }
}
