import ArgumentParser
import Foundation
import KaipmCore
import KaipmEngine

extension Kaipm {
    /// `kaipm apply [PLANFILE]`: converge the host.
    struct Apply: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Converge this host to the desired state, or apply exactly a saved plan.")

        @OptionGroup var host: HostOptions
        @OptionGroup var desired: DesiredOptions

        @Argument(help: ArgumentHelp("A plan saved by 'kaipm plan --out'. It is refused if the revision or the host moved since.",
                                     valueName: "planfile"))
        var planFile: String?

        @Option(help: ArgumentHelp("Seconds to wait for another reconcile to finish.", valueName: "seconds"))
        var wait: Double = 0

        @Flag(help: "Rehash every byte of the store instead of trusting the stat cache.")
        var full = false

        @Option(help: "Output format: text or json.")
        var format: OutputFormat = .text

        @Flag(help: "No ANSI colours in text output.")
        var noColor = false

        @Option(help: ArgumentHelp("Who is acting, for the audit log.", valueName: "name"))
        var actor: String?

        func run() throws {
            var saved: KaipmCore.Plan?
            if let planFile {
                saved = try runReporting { () throws -> KaipmCore.Plan in
                    let path = absolute(planFile)
                    guard let data = FileManager.default.contents(atPath: path) else {
                        throw EngineError.badPlanFile(path: path, reason: "it does not exist or cannot be read")
                    }
                    do {
                        return try JSONDecoder().decode(KaipmCore.Plan.self, from: data)
                    } catch {
                        throw EngineError.badPlanFile(path: path, reason: "it is not a kaipm plan (\(error))")
                    }
                }
            }
            // A saved plan is checked against what --rev resolves to now: if the branch moved, it is refused.
            let options = ReconcileOptions(root: host.resolvedRoot, source: desired.source, host: saved?.host ?? desired.hostName,
                                           actor: actor ?? "kaipm@\(desired.hostName)", lockWait: wait, fullVerify: full,
                                           command: CommandLine.arguments.joined(separator: " "), logger: host.bootstrapLogging())
            let report = try runReporting { try Reconciler(options: options).apply(saved: saved) }
            switch format {
            case .json:
                printOut(PlanRenderer.json(ApplyOutput(outcome: report.outcome, runID: report.runID, plan: report.plan,
                                                       failures: report.failures)))
            default:
                printOut(PlanRenderer.text(report.plan, color: useColor(noColor)))
                printOut(report.plan.hasChanges ? "Applied (run \(report.runID)): \(report.outcome).\n" : "")
            }
            if !report.failures.isEmpty {
                FileHandle.standardError.write(Data(("kaipm: error: " + EngineError.actionsFailed(report.failures).description + "\n").utf8))
                throw ExitCode.failure
            }
        }
    }
}

/// The JSON output of `kaipm apply --format json`.
struct ApplyOutput: Encodable {
    var outcome: String
    var runID: Int64
    var plan: KaipmCore.Plan
    var failures: [String]
}
