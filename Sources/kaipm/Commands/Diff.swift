import ArgumentParser
import KaipmCore
import KaipmEngine

extension Kaipm {
    /// `kaipm diff`: the review diff between two revisions.
    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what would change on each host between two revisions, from desired state alone.",
            discussion: "Needs no host and no registry: the job a desired-state repository's CI posts on a pull request.")

        @Option(help: ArgumentHelp("The git repository (default: the current folder).", valueName: "path"))
        var repo: String?

        @Option(help: ArgumentHelp("The desired-state folder inside the repository.", valueName: "path"))
        var path = "desired-state"

        @Option(help: ArgumentHelp("The base revision (what hosts have now).", valueName: "rev"))
        var from: String

        @Option(help: ArgumentHelp("The revision under review.", valueName: "rev"))
        var to = "HEAD"

        @Option(help: ArgumentHelp("One host to diff (repeatable).", valueName: "name"))
        var host: [String] = []

        @Flag(help: "Every host named in hosts/ at either revision (the default when no --host is given).")
        var allHosts = false

        @Option(help: "Output format: text, json or markdown.")
        var format: OutputFormat = .text

        @Flag(help: "No ANSI colours in text output.")
        var noColor = false

        @Flag(help: "Exit 2 when any host would change.")
        var detailedExitcode = false

        func validate() throws {
            if allHosts && !host.isEmpty { throw ValidationError("Give --host or --all-hosts, not both.") }
        }

        func run() throws {
            let diffs = try runReporting {
                try ReviewDiff.diff(repo: absolute(repo ?? "."), path: path, from: from, to: to,
                                    hosts: host.isEmpty ? nil : host)
            }
            switch format {
            case .json:
                printOut(PlanRenderer.json(DiffOutput(from: from, to: to, hosts: diffs)))
            case .markdown:
                let changed = diffs.filter { $0.plan?.hasChanges ?? true }.count
                printOut("### kaipm diff `\(from)` → `\(to)`\n\n\(changed) of \(diffs.count) host(s) change.\n\n")
                for diff in diffs {
                    if let plan = diff.plan { printOut(PlanRenderer.markdown(plan) + "\n") }
                    if let error = diff.error { printOut("#### Host `\(diff.host)`\n\n:x: cannot plan: \(error)\n\n") }
                }
            case .text:
                for diff in diffs {
                    if let plan = diff.plan { printOut(PlanRenderer.text(plan, color: useColor(noColor))) }
                    if let error = diff.error { printOut("Host \(diff.host): cannot plan:\n\(error)\n") }
                    printOut("\n")
                }
            }
            if diffs.contains(where: { $0.error != nil }) { throw ExitCode.failure }
            if detailedExitcode && diffs.contains(where: { $0.plan?.hasChanges ?? false }) { throw ExitCode(2) }
        }
    }
}

/// The JSON output of `kaipm diff`.
struct DiffOutput: Encodable {
    var formatVersion = KaipmCore.Plan.currentFormatVersion
    var from: String
    var to: String
    var hosts: [ReviewDiff.HostDiff]
}
