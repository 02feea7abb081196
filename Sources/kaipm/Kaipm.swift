import ArgumentParser

/// The kAI Plugin Manager: reconciles a host's plugins from a git-tracked YAML tree.
@main
struct Kaipm: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kaipm",
        abstract: "The kAI Plugin Manager: reconcile a host's plugins from desired state in git.",
        discussion: """
            Admins commit YAML under desired-state/; each host runs 'kaipm apply' (a timer or the agent) to
            converge its registry, plugin store and config files to it. Reviewers read 'kaipm diff'.
            """,
        version: "0.1.0",
        subcommands: [Plan.self, Apply.self, Verify.self, Diff.self, Validate.self, Status.self, History.self,
                      Audit.self, Hash.self, Config.self, Schema.self, Run.self, Logs.self, Doctor.self]
    )
}
