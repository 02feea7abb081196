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
            let header = ["PLUGIN", "VERSION", "STATE", "CHECKSUM", "REVISION"]
                + (running ? ["SANDBOX", "PID", "UPTIME", "MEMORY", "RESTARTS", "ISOLATION"] : [])
            var rows = [header]
            for plugin in status.plugins {
                var row: [String] = [plugin.id, plugin.version, plugin.state, String(plugin.checksum.prefix(15)) + "…",
                                     String(plugin.revision.prefix(12))]
                if running {
                    let pid: String = plugin.pid.map { String($0) } ?? "-"
                    let uptime: String = plugin.uptimeSeconds.map { Self.duration($0) } ?? "-"
                    let memory: String = plugin.memoryBytes.map { Self.size($0) } ?? "-"
                    let restarts: String = plugin.restarts.map { String($0) } ?? "-"
                    row += [plugin.sandbox ?? "-", pid, uptime, memory, restarts, plugin.isolation ?? "-"]
                }
                rows.append(row)
            }
            let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
            for row in rows {
                printOut(row.enumerated().map { $0 == row.count - 1 ? $1 : $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                    .joined(separator: "  ") + "\n")
            }
            if host.verbose {
                for plugin in status.plugins {
                    guard let items = plugin.isolationItems else { continue }
                    printOut("\n\(plugin.id): supervisor \(plugin.supervisorPID.map(String.init) ?? "-"), isolation in force:\n")
                    for item in items {
                        printOut("  \(item.enforced ? "✓" : "✗") \(item.limit.padding(toLength: 10, withPad: " ", startingAt: 0)) \(item.detail)\n")
                    }
                }
            }
            for plugin in status.plugins {
                for condition in plugin.conditions where condition.type == "Blocked" || condition.status == "False" && condition.reason != "Inactive" {
                    printOut("  \(plugin.id): \(condition.type)=\(condition.status) \(condition.reason): \(condition.message)\n")
                }
            }
        }

        /// `42s`, `5m07s`, `3h04m`, `2d05h`.
        static func duration(_ seconds: Int) -> String {
            func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
            switch seconds {
            case ..<60: return "\(seconds)s"
            case ..<3600: return "\(seconds / 60)m\(two(seconds % 60))s"
            case ..<86400: return "\(seconds / 3600)h\(two(seconds % 3600 / 60))m"
            default: return "\(seconds / 86400)d\(two(seconds % 86400 / 3600))h"
            }
        }

        /// `812 KiB`, `14.2 MiB`.
        static func size(_ bytes: UInt64) -> String {
            bytes < 1 << 20 ? "\(bytes >> 10) KiB" : String(format: "%.1f MiB", Double(bytes) / 1_048_576)
        }
    }
}
