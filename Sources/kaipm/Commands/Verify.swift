import ArgumentParser
import KaipmCore
import KaipmEngine

extension Kaipm {
    /// `kaipm verify`: integrity now.
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the store, the registry rows, the config files and the audit chain; exit 1 on any mismatch.")

        @OptionGroup var host: HostOptions

        @Flag(help: "Rehash every byte instead of comparing the stat cache (size, mtime, ctime, inode).")
        var full = false

        @Option(help: "Output format: text or json.")
        var format: OutputFormat = .text

        func run() throws {
            let report = try runReporting { try HostInspector(root: host.resolvedRoot).verify(full: full) }
            if format == .json {
                printOut(PlanRenderer.json(report))
            } else if report.isIntact {
                printOut("OK: \(report.checkedPlugins) plugin(s) verified\(full ? " byte by byte" : ""); the audit chain is intact.\n")
            } else {
                printOut("Integrity problems (\(report.problems.count)); 'kaipm apply' repairs store, rows and configs from the pinned source:\n")
                for problem in report.problems { printOut("  \(problem)\n") }
            }
            if !report.isIntact { throw ExitCode.failure }
        }
    }
}
