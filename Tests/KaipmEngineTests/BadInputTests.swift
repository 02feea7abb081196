import Foundation
import KaipmCore
import KaipmEngine
import KaipmRegistry
import Testing

/// Bad desired state on a converged host: a clear error, and nothing else disturbed.
@Suite("Bad input")
struct BadInputTests {
    struct BadInput: Sendable, CustomTestStringConvertible {
        var name: String
        /// Edits the repository (the commit also adds the good plugin `fresh`).
        var breakIt: @Sendable (TestRepo) throws -> Void
        /// Plugins whose entries are broken: blocked and left exactly as they are.
        var broken: [String]
        /// Fragments every one of which the error text must contain.
        var fragments: [String]
        /// Whether the whole run is refused (then not even `fresh` is installed).
        var refusesRun = false
        var testDescription: String { name }
    }

    /// 9 levels of 9 aliases: 9^9 nodes if expanded.
    static let billionLaughs: String = {
        var text = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1...9 {
            let refs = Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", ")
            text += "a\(level): &a\(level) [\(refs)]\n"
        }
        return "apiVersion: kaipm/v1\nkind: Plugin\nid: my-plugin\n" + text
    }()

    static let cases: [BadInput] = [
        BadInput(name: "malformed YAML in a plugin entry", breakIt: { repo in
            try repo.write("desired-state/plugins/my-plugin.yaml", """
                apiVersion: kaipm/v1
                kind: Plugin
                id: my-plugin
                version: [1.0.0
                source: {path: examples/plugins/my-plugin}

                """)
        }, broken: ["my-plugin"], fragments: ["desired-state/plugins/my-plugin.yaml:", "invalid YAML", "fix the YAML syntax"]),
        BadInput(name: "an unknown key (verison)", breakIt: { repo in
            try repo.replace("desired-state/plugins/my-plugin.yaml", "version: 1.0.0", with: "verison: 1.0.0")
        }, broken: ["my-plugin"], fragments: ["desired-state/plugins/my-plugin.yaml:4:1", "unknown key 'verison'", "did you mean 'version'"]),
        BadInput(name: "a dependsOn cycle", breakIt: { repo in
            try repo.writeExampleEntry("my-plugin", dependsOn: ["notes"])
            try repo.writeExampleEntry("notes", dependsOn: ["my-plugin"])
        }, broken: ["my-plugin", "notes"], fragments: ["dependsOn cycle: my-plugin → notes → my-plugin", "break the cycle"]),
        BadInput(name: "a wrong checksum pin on a dir: source", breakIt: { repo in
            try FileManager.default.copyItem(atPath: PackagePaths.examples + "/my-plugin", toPath: repo.dirs + "/my-plugin")
            try repo.writeEntry("my-plugin", version: "1.0.0", source: "dir: \(repo.dirs)/my-plugin",
                                extra: "checksum: h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
        }, broken: ["my-plugin"], fragments: ["checksum mismatch", "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "update 'checksum'"]),
        BadInput(name: "a symlink committed inside a plugin folder", breakIt: { repo in
            try FileManager.default.createSymbolicLink(atPath: repo.path("examples/plugins/my-plugin/secrets.py"),
                                                       withDestinationPath: "/etc/shadow")
        }, broken: ["my-plugin"], fragments: ["symlink", "secrets.py"]),
        BadInput(name: "a billion-laughs document", breakIt: { repo in
            try repo.write("desired-state/plugins/my-plugin.yaml", billionLaughs)
        }, broken: ["my-plugin"], fragments: ["desired-state/plugins/my-plugin.yaml", "aliases"]),
        BadInput(name: "malformed kos.config.yaml", breakIt: { repo in
            try repo.write("desired-state/kos.config.yaml", "apiVersion: kaipm/v1\nkind: KosConfig\npreload: [core-logger\n")
        }, broken: [], fragments: ["desired-state/kos.config.yaml:", "invalid YAML"], refusesRun: true),
        BadInput(name: "an unknown key in kos.config.yaml", breakIt: { repo in
            try repo.write("desired-state/kos.config.yaml", "apiVersion: kaipm/v1\nkind: KosConfig\npreloads: [notes]\n")
        }, broken: [], fragments: ["desired-state/kos.config.yaml:3:1", "unknown key 'preloads'", "did you mean 'preload'"],
           refusesRun: true),
        BadInput(name: "an invalid host file for this host", breakIt: { repo in
            try repo.write("desired-state/hosts/test-host.yaml", """
                apiVersion: kaipm/v1
                kind: Host
                name: test-host
                labels: {role: edge}
                plugins:
                  notes:
                    activ: false

                """)
        }, broken: [], fragments: ["desired-state/hosts/test-host.yaml:7:5", "unknown key 'activ'", "did you mean 'active'"],
           refusesRun: true),
    ]

    @Test("bad input is a clear error that disturbs nothing else", arguments: cases)
    func badInputIsContained(_ bad: BadInput) throws {
        let repo = try TestRepo(examples: ["my-plugin", "notes"])
        try repo.writeExampleEntry("my-plugin")
        try repo.writeExampleEntry("notes")
        try repo.commit("good state")
        let reconciler = repo.reconciler()
        #expect(try reconciler.apply().outcome == "applied")
        let rowsBefore = try repo.rows()
        let auditBefore = try repo.auditCount()

        try bad.breakIt(repo)
        try repo.generatePlugin("fresh")
        try repo.writeEntry("fresh", version: "1.0.0")
        try repo.commit("bad input and a good new plugin")

        let clock = Date()
        if bad.refusesRun {
            let error = try #require(throws: EngineError.self) { try reconciler.apply() }
            let text = error.description
            for fragment in bad.fragments { #expect(text.contains(fragment), "missing '\(fragment)' in: \(text)") }
            #expect(try repo.rows() == rowsBefore, "nothing changed")
            #expect(try repo.auditCount() == auditBefore)
            let cli = try repo.kaipm(["plan"])
            #expect(cli.status == 1, "\(cli)")
            #expect(cli.stderr.contains(bad.fragments[0]), "\(cli)")
        } else {
            let plan = try reconciler.plan()
            for id in bad.broken {
                let blocked = try #require(plan.blocked.first { $0.plugin == id }, "\(id) is blocked: \(plan.blocked)")
                let text = blocked.problems.joined(separator: "\n")
                for fragment in bad.fragments { #expect(text.contains(fragment), "missing '\(fragment)' in: \(text)") }
                #expect(!plan.actions.contains { $0.plugin == id }, "no action touches the broken \(id): \(plan.steps)")
            }
            #expect(plan.steps == ["install fresh", "configure fresh", "activate fresh"])
            let report = try reconciler.apply()
            #expect(report.failures.isEmpty, "\(report.failures)")
            let rows = try repo.rows()
            #expect(rows["fresh"]?.isActive == true, "the good plugin of the same commit converged")
            for (id, row) in rowsBefore {
                #expect(rows[id] == row, "the registry row of \(id) is untouched")
            }
            let conditions = try repo.registry().conditions()
            for id in bad.broken {
                let blocked = conditions[id]?.first { $0.type == "Blocked" }
                #expect(blocked?.status == "True", "\(id) carries a Blocked condition")
            }
            let status = try repo.kaipm(["status"])
            for id in bad.broken { #expect(status.stdout.contains("\(id): Blocked=True"), "\(status)") }
            let verify = try repo.kaipm(["verify", "--full"])
            #expect(verify.status == 0, "\(verify)")
        }
        let took = Date().timeIntervalSince(clock)
        #expect(took < 10, "handled in \(took) s")
    }

    /// DESIGN.md: config values are "validated against the plugin's ui/config.schema.json": a
    /// config the schema forbids blocks the plugin, and `kaipm validate` fails on it.
    @Test("a config that violates the plugin's config schema blocks that plugin")
    func configViolatingSchemaIsBlocked() throws {
        let repo = try TestRepo(examples: ["notes"])
        try repo.writeExampleEntry("notes")
        try repo.write("desired-state/config/plugins/notes.config.yaml", "maxNotes: \"lots\"\nbogus: 1\n")
        try repo.commit("a config the schema forbids")
        let plan = try repo.reconciler().plan()
        let blocked = plan.blocked.first { $0.plugin == "notes" }
        #expect(blocked != nil, "plan: \(plan.steps)")
        #expect(blocked?.problems.joined().contains("maxNotes") == true)
        #expect(blocked?.problems.contains { $0.hasPrefix("desired-state/config/plugins/notes.config.yaml:2:1: ") && $0.contains("bogus") } == true,
                "\(blocked?.problems ?? [])")
        #expect(!plan.steps.contains("configure notes"))
        let validate = try repo.kaipm(["validate"])
        #expect(validate.status == 1, "\(validate)")
    }

    @Test("a billion-laughs document is refused quickly by the parser")
    func billionLaughsIsRefusedQuickly() throws {
        let clock = Date()
        #expect(throws: Diagnostic.self) {
            _ = try YAMLDocument.parse(Array(Self.billionLaughs.utf8), file: "plugins/my-plugin.yaml")
        }
        #expect(Date().timeIntervalSince(clock) < 2)
    }
}
