import ArgumentParser
import KaipmCore
import KaipmEngine

extension Kaipm {
    /// `kaipm validate`: check a desired-state tree without a host.
    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a desired-state tree (entries, configs, hosts, plugin packages, pins) without a host.")

        @OptionGroup var desired: DesiredOptions

        @Option(help: "Output format: text or json.")
        var format: OutputFormat = .text

        func run() throws {
            let report = try runReporting { try DesiredValidator.validate(desired.source) }
            if format == .json {
                printOut(PlanRenderer.json(report))
            } else {
                for error in report.errors { printOut("error: \(error)\n") }
                for warning in report.warnings { printOut("warning: \(warning)\n") }
                printOut("\(report.errors.isEmpty ? "valid" : "invalid"): \(report.plugins) plugin(s), \(report.hosts) host(s), "
                         + "\(report.errors.count) error(s), \(report.warnings.count) warning(s) at \(report.revision)\n")
            }
            if !report.errors.isEmpty { throw ExitCode.failure }
        }
    }
}
