import Foundation
import KaipmCore
import KaipmEngine
import KaipmRegistry
import Testing

/// What reviewers and CI use: `kaipm diff`, `kaipm validate`, and `--dir` runs.
@Suite("Review, validation and --dir")
struct ReviewTests {
    /// Two hosts with different labels and overrides, and a second commit that changes both.
    static func twoHosts() throws -> (TestRepo, String, String) {
        let repo = try TestRepo(examples: ["core-logger", "my-plugin", "notes", "weather"])
        try repo.write("desired-state/kos.config.yaml", TestRepo.kosConfig(dirs: repo.dirs, preload: ["core-logger"]))
        try repo.writeExampleEntry("core-logger")
        try repo.writeExampleEntry("notes")
        try repo.writeExampleEntry("my-plugin", dependsOn: ["core-logger"])
        try repo.write("desired-state/hosts/edge-01.yaml", """
            apiVersion: kaipm/v1
            kind: Host
            name: edge-01
            labels: {role: edge, region: eu-west}

            """)
        try repo.write("desired-state/hosts/office-01.yaml", """
            apiVersion: kaipm/v1
            kind: Host
            name: office-01
            labels: {role: office, region: us-east}
            plugins:
              notes:
                config: {maxNotes: 5000}

            """)
        let from = try repo.commit("base")
        try repo.writeExampleEntry("weather", dependsOn: ["core-logger"], extra: """
            grants:
              network: ["api.weather.example:443"]
            hosts:
              labels: {role: edge}

            """)
        try repo.replace("desired-state/hosts/office-01.yaml", "maxNotes: 5000", with: "maxNotes: 2000")
        let to = try repo.commit("weather for edge hosts; fewer notes in the office")
        return (repo, from, to)
    }

    struct DiffOutput: Decodable {
        struct HostDiff: Decodable {
            var host: String
            var plan: Plan?
            var error: String?
        }
        var formatVersion: Int
        var from: String
        var to: String
        var hosts: [HostDiff]
    }

    @Test("diff --format json: per-host actions follow labels and overrides")
    func diffJSON() throws {
        let (repo, from, to) = try Self.twoHosts()
        let result = try repo.kaipm(["diff", "--repo", repo.repo, "--from", from, "--to", to,
                                     "--host", "edge-01", "--host", "office-01", "--format", "json"], plain: true)
        #expect(result.status == 0, "\(result)")
        let diff = try JSONDecoder().decode(DiffOutput.self, from: Data(result.stdout.utf8))
        #expect(diff.formatVersion == Plan.currentFormatVersion)
        #expect(diff.hosts.map(\.host) == ["edge-01", "office-01"])
        let edge = try #require(diff.hosts.first?.plan)
        let office = try #require(diff.hosts.last?.plan)
        #expect(edge.revision == to)
        #expect(edge.steps == ["install weather", "configure weather", "activate weather"], "the label selects weather on edge-01 only")
        #expect(edge.action(.install, "weather")?.changes.contains(FieldChange(field: "version", before: nil, after: "1.2.0")) == true)
        #expect(office.steps == ["configure notes"])
        #expect(office.action(.configure, "notes")?.changes == [FieldChange(field: "config.maxNotes", before: "5000", after: "2000")])

        let exit = try repo.kaipm(["diff", "--repo", repo.repo, "--from", from, "--to", to, "--detailed-exitcode"], plain: true)
        #expect(exit.status == 2, "\(exit)")
        let same = try repo.kaipm(["diff", "--repo", repo.repo, "--from", to, "--to", to, "--detailed-exitcode"], plain: true)
        #expect(same.status == 0, "\(same)")
    }

    @Test("diff --format markdown renders the same per-host actions for a review comment")
    func diffMarkdown() throws {
        let (repo, from, to) = try Self.twoHosts()
        let result = try repo.kaipm(["diff", "--repo", repo.repo, "--from", from, "--to", to,
                                     "--host", "edge-01", "--host", "office-01", "--format", "markdown"], plain: true)
        #expect(result.status == 0, "\(result)")
        let text = result.stdout
        #expect(text.contains("2 of 2 host(s) change."), "\(text)")
        let edgeStart = try #require(text.range(of: "#### Host `edge-01`"))
        let officeStart = try #require(text.range(of: "#### Host `office-01`"))
        #expect(edgeStart.lowerBound < officeStart.lowerBound)
        let edge = String(text[edgeStart.upperBound..<officeStart.lowerBound])
        let office = String(text[officeStart.upperBound...])
        #expect(edge.contains("| install | `weather` |"), "\(edge)")
        #expect(!office.contains("weather"), "\(office)")
        #expect(office.contains("| configure | `notes` |"), "\(office)")
        #expect(office.contains("`config.maxNotes`: `5000` → `2000`"), "\(office)")
    }

    @Test("diff names a host whose file is invalid at the new revision, and exits 1")
    func diffInvalidHost() throws {
        let (repo, from, _) = try Self.twoHosts()
        try repo.replace("desired-state/hosts/edge-01.yaml", "labels:", with: "lables:")
        let to = try repo.commit("typo")
        let result = try repo.kaipm(["diff", "--repo", repo.repo, "--from", from, "--to", to, "--format", "json"], plain: true)
        #expect(result.status == 1, "\(result)")
        let diff = try JSONDecoder().decode(DiffOutput.self, from: Data(result.stdout.utf8))
        let edge = try #require(diff.hosts.first { $0.host == "edge-01" })
        #expect(edge.plan == nil)
        #expect(edge.error?.contains("did you mean 'labels'") == true, "\(edge.error ?? "")")
        #expect(diff.hosts.first { $0.host == "office-01" }?.plan != nil, "the other host is still planned")
    }

    // MARK: --dir and the work tree

    @Test("--dir runs read the folder and are recorded unpinned")
    func dirModeIsUnpinned() throws {
        let repo = try TestRepo(examples: ["notes"])
        try repo.writeExampleEntry("notes")
        try repo.commit("notes")
        let reconciler = repo.reconciler(source: .dir(path: repo.path("desired-state"), sourceRoot: repo.repo))
        let report = try reconciler.apply()
        #expect(report.outcome == "applied")
        #expect(!report.plan.pinned)
        #expect(report.plan.revision.hasPrefix("unpinned:"))
        let run = try #require(try repo.registry().runs(limit: 1).first)
        #expect(!run.pinned)
        #expect(run.revision == report.plan.revision)
        #expect(try repo.rows()["notes"]?.revision == report.plan.revision)

        // The CLI: --dir sees an uncommitted edit and says "unpinned".
        try repo.write("desired-state/config/plugins/notes.config.yaml", "maxNotes: 3\n")
        let plan = try repo.kaipm(["plan", "--dir", repo.path("desired-state"), "--detailed-exitcode"])
        #expect(plan.status == 2, "\(plan)")
        #expect(plan.stdout.contains("(unpinned)"), "\(plan)")
        #expect(plan.stdout.contains("config.maxNotes: 1000 → 3"), "\(plan)")
        let apply = try repo.kaipm(["apply", "--dir", repo.path("desired-state")])
        #expect(apply.status == 0, "\(apply)")
        let history = try repo.kaipm(["history", "--format", "json"])
        #expect(history.stdout.contains("\"pinned\" : false"), "\(history)")
        #expect(!history.stdout.contains("\"pinned\" : true"), "\(history)")
    }

    @Test("a git-mode run does not see uncommitted work-tree edits")
    func gitModeIgnoresWorkTree() throws {
        let repo = try TestRepo(examples: ["notes", "my-plugin"])
        try repo.writeExampleEntry("notes")
        let head = try repo.commit("notes")
        #expect(try repo.reconciler().apply().outcome == "applied")

        // Uncommitted: a new entry, a config edit, a plugin file edit, a deleted entry.
        try repo.writeExampleEntry("my-plugin")
        try repo.write("desired-state/config/plugins/notes.config.yaml", "maxNotes: 1\n")
        try repo.write("examples/plugins/notes/main.py", "print('uncommitted')\n")
        try repo.git("add", "desired-state/plugins/my-plugin.yaml")  // staged is not committed either
        let plan = try repo.reconciler().plan()
        #expect(plan.revision == head)
        #expect(plan.actions.isEmpty, "\(plan.steps)")
        try repo.remove("desired-state/plugins/notes.yaml")
        #expect(try repo.reconciler().plan().actions.isEmpty)
        let cli = try repo.kaipm(["plan", "--detailed-exitcode"])
        #expect(cli.status == 0, "\(cli)")
    }

    // MARK: validate

    /// A git repository holding a copy of the package's desired-state/ and examples/.
    static func shippedCopy() throws -> TestRepo {
        let repo = try TestRepo()
        try repo.remove("desired-state")
        try FileManager.default.copyItem(atPath: PackagePaths.desiredState, toPath: repo.path("desired-state"))
        try FileManager.default.createDirectory(atPath: repo.path("examples"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: PackagePaths.examples, toPath: repo.path("examples/plugins"))
        try repo.commit("the shipped desired state")
        return repo
    }

    @Test("validate exits 0 on the shipped desired-state")
    func validateShipped() throws {
        let repo = try Self.shippedCopy()
        let result = try repo.kaipm(["validate"])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("valid: 4 plugin(s), 3 host(s), 0 error(s)"), "\(result)")
        let report = try DesiredValidator.validate(.git(repo: repo.repo, rev: "HEAD", path: "desired-state", fetch: false))
        #expect(report.errors == [])
        #expect(report.plugins == 4)
        #expect(report.hosts == 3)
    }

    struct Breakage: Sendable, CustomTestStringConvertible {
        var name: String
        var breakIt: @Sendable (TestRepo) throws -> Void
        var error: String
        var testDescription: String { name }
    }

    static let breakages: [Breakage] = [
        Breakage(name: "a typo in an entry", breakIt: { repo in
            try repo.replace("desired-state/plugins/notes.yaml", "active: true", with: "actve: true")
        }, error: "error: desired-state/plugins/notes.yaml:7:1: plugin 'notes': unknown key 'actve'"),
        Breakage(name: "a version that does not match plugin.json", breakIt: { repo in
            try repo.replace("desired-state/plugins/weather.yaml", "version: 1.2.0", with: "version: 1.3.0")
        }, error: "plugin.json has version 1.2.0 but the entry asks for 1.3.0"),
        Breakage(name: "a grant the manifest does not request", breakIt: { repo in
            try repo.replace("desired-state/plugins/weather.yaml", "\"api.weather.example:443\"",
                             with: "\"api.weather.example:443\", \"evil.example:443\"")
        }, error: "grants beyond what manifest.yaml requests: network evil.example:443"),
        Breakage(name: "a bad override in a host file", breakIt: { repo in
            try repo.replace("desired-state/hosts/office-01.yaml", "active: false", with: "active: maybe")
        }, error: "desired-state/hosts/office-01.yaml:"),
    ]

    @Test("validate exits 1 and lists the error on a broken tree", arguments: breakages)
    func validateBroken(_ breakage: Breakage) throws {
        let repo = try Self.shippedCopy()
        try breakage.breakIt(repo)
        try repo.commit("broken")
        let result = try repo.kaipm(["validate"])
        #expect(result.status == 1, "\(result)")
        #expect(result.stdout.contains(breakage.error), "\(result)")
        #expect(result.stdout.contains("invalid:"), "\(result)")
    }
}
