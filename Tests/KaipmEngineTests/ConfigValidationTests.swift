import Foundation
import JSONSchema
import KaipmCore
import KaipmEngine
import Testing

/// Configs checked against each plugin's ui/config.schema.json at plan time, in `kaipm validate`
/// and in `kaipm config show`; secrets masked everywhere.
@Suite("Config validation")
struct ConfigValidationTests {
    /// weather and notes committed; weather's config file has `body` from line 1.
    static func repo(weatherConfig body: String, host: String = "test-host") throws -> TestRepo {
        let repo = try TestRepo(host: host, examples: ["weather", "notes"])
        try repo.writeExampleEntry("weather")
        try repo.writeExampleEntry("notes")
        try repo.write("desired-state/config/plugins/weather.config.yaml", body)
        try repo.commit("weather and notes")
        return repo
    }

    @Test("a bad value in the config file blocks that plugin with file:line:col and the rule; the rest of the plan proceeds")
    func badConfigValueBlocksOnePlugin() throws {
        let repo = try Self.repo(weatherConfig: "units: metric\n# refreshed every…\nrefreshMinutes: 2000\n")
        let plan = try repo.reconciler().plan()
        let blocked = try #require(plan.blocked.first { $0.plugin == "weather" }, "\(plan.blocked)")
        #expect(blocked.problems == ["desired-state/config/plugins/weather.config.yaml:3:17: plugin 'weather': "
                                     + "/refreshMinutes: 2000 is greater than the maximum 1440 (maximum)"])
        #expect(plan.steps == ["install notes", "configure notes", "activate notes"], "the rest of the plan proceeds")

        let report = try repo.reconciler().apply()
        #expect(report.failures.isEmpty)
        let rows = try repo.rows()
        #expect(rows["notes"]?.isActive == true)
        #expect(rows["weather"] == nil, "an invalid config is never rendered")
        #expect(!FileManager.default.fileExists(atPath: repo.layout.configFile("weather")))

        let validate = try repo.kaipm(["validate"])
        #expect(validate.status == 1, "\(validate)")
        #expect(validate.stdout.contains("error: desired-state/config/plugins/weather.config.yaml:3:17: plugin 'weather': "
                                         + "/refreshMinutes: 2000 is greater than the maximum 1440 (maximum)"), "\(validate)")
    }

    @Test("a bad value in a host override is reported in the host file and blocks the plugin on that host only")
    func badHostOverrideBlocksOnThatHost() throws {
        let repo = try Self.repo(weatherConfig: "refreshMinutes: 60\n")
        try repo.write("desired-state/hosts/test-host.yaml", """
            apiVersion: kaipm/v1
            kind: Host
            name: test-host
            plugins:
              weather:
                config:
                  units: metric
                  refreshMinutes: 1

            """)
        try repo.write("desired-state/hosts/other-host.yaml", "apiVersion: kaipm/v1\nkind: Host\nname: other-host\n")
        try repo.commit("a host override below the minimum")

        let plan = try repo.reconciler().plan()
        let problems = try #require(plan.blocked.first { $0.plugin == "weather" }?.problems, "\(plan.blocked)")
        #expect(problems == ["desired-state/hosts/test-host.yaml:8:23: plugin 'weather': /refreshMinutes: 1 is less than the minimum 5 (minimum)"])
        #expect(plan.steps.contains("install notes"))
        let other = try repo.reconciler(host: "other-host").plan()
        #expect(other.blocked.isEmpty, "\(other.blocked)")
        #expect(other.steps.contains("install weather"))
        #expect(other.action(.configure, "weather")?.changes.contains(FieldChange(field: "config.refreshMinutes", before: nil, after: "60")) == true)

        let validate = try repo.kaipm(["validate"])
        #expect(validate.status == 1, "\(validate)")
        #expect(validate.stdout.contains("error: host test-host: desired-state/hosts/test-host.yaml:8:23: plugin 'weather': /refreshMinutes: 1"),
                "\(validate)")
        #expect(!validate.stdout.contains("other-host"), "\(validate)")
    }

    @Test("format is asserted: a hostname that is not one blocks the plugin")
    func formatViolationBlocks() throws {
        let repo = try Self.repo(weatherConfig: "endpoint: \"api weather!\"\n")
        let plan = try repo.reconciler().plan()
        #expect(plan.blocked.first { $0.plugin == "weather" }?.problems
                == ["desired-state/config/plugins/weather.config.yaml:1:11: plugin 'weather': /endpoint: \"api weather!\" is not a valid hostname (format)"])
        #expect(plan.steps == ["install notes", "configure notes", "activate notes"])
    }

    @Test("kaipm validate checks desired-state files against the shipped schemas, with file:line:col")
    func validateChecksShippedSchemas() throws {
        let repo = try Self.repo(weatherConfig: "refreshMinutes: 60\n")
        try repo.writeExampleEntry("notes", extra: "dependsOn: [Weather_Plugin]\n")
        try repo.commit("a dependency that is not an id")
        let validate = try repo.kaipm(["validate"])
        #expect(validate.status == 1, "\(validate)")
        #expect(validate.stdout.contains("error: desired-state/plugins/notes.yaml:8:13: /dependsOn/0: \"Weather_Plugin\" does not match the pattern"),
                "\(validate)")
        #expect(validate.stdout.contains("(pattern, kaipm's plugin-entry schema)"), "\(validate)")
        #expect(validate.stdout.contains("dependsOn entry 'Weather_Plugin' is not a plugin id"), "the typed reader says it too: \(validate)")
    }

    @Test("config show prints each value with the layer and line it came from, secrets masked")
    func configShowsOrigins() throws {
        let repo = try Self.repo(weatherConfig: "units: imperial\napiKey: wk-TOPSECRET-7\n")
        try repo.write("desired-state/hosts/test-host.yaml", """
            apiVersion: kaipm/v1
            kind: Host
            name: test-host
            plugins:
              weather:
                config: {refreshMinutes: 15}

            """)
        try repo.commit("a host override")
        let shown = try repo.kaipm(["config", "show", "weather", "--host", "test-host"], plain: true)
        #expect(shown.status == 0, "\(shown)")
        let lines = shown.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(lines.contains("apiKey (secret) config file desired-state/config/plugins/weather.config.yaml:2:9"), "\(shown)")
        #expect(lines.contains("endpoint \"api.weather.example\" schema default examples/plugins/weather/ui/config.schema.json:8:69"), "\(shown)")
        #expect(lines.contains("refreshMinutes 15 host override desired-state/hosts/test-host.yaml:6:30"), "\(shown)")
        #expect(lines.contains("units \"imperial\" config file desired-state/config/plugins/weather.config.yaml:1:8"), "\(shown)")
        #expect(!shown.output.contains("TOPSECRET"))

        let json = try repo.kaipm(["config", "show", "weather", "--format", "json"], plain: true)
        #expect(json.status == 0, "\(json)")
        let parsed = try JSONValue.parse(json.stdout)
        #expect(parsed["host"] == nil)
        #expect(parsed["config"]?["refreshMinutes"] == 30, "no host: no override")
        #expect(parsed["config"]?["apiKey"] == "(secret)")
        #expect(!json.output.contains("TOPSECRET"))

        try repo.write("desired-state/config/plugins/weather.config.yaml", "units: kelvin\n")
        try repo.commit("a unit the schema does not know")
        let invalid = try repo.kaipm(["config", "show", "weather"], plain: true)
        #expect(invalid.status == 1, "\(invalid)")
        #expect(invalid.stdout.contains("error: desired-state/config/plugins/weather.config.yaml:1:8: plugin 'weather': /units:"), "\(invalid)")
        let missing = try repo.kaipm(["config", "show", "nope"], plain: true)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no plugin 'nope'"), "\(missing)")
    }

    @Test("kaipm schema prints each shipped schema as JSON", arguments: ShippedSchema.allCases)
    func schemaCommandPrints(_ schema: ShippedSchema) throws {
        let repo = try TestRepo()
        let printed = try repo.kaipm(["schema", schema.rawValue], plain: true)
        #expect(printed.status == 0, "\(printed)")
        #expect(try JSONValue.parse(printed.stdout) == schema.json)
        _ = try JSONSchema.compile(json: printed.stdout)
    }

    // MARK: Secrets

    static let secretSchema = """
        {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "additionalProperties": false,
         "properties": {"token": {"type": "string", "x-kaipm-secret": true, "pattern": "^tok-", "default": "tok-none"},
                        "size": {"type": "integer", "default": 1}}}

        """

    @Test("a value the installed version marks secret stays masked when a new version no longer does")
    func secretOfTheInstalledVersionStaysMasked() throws {
        let repo = try TestRepo(examples: [])
        try repo.generatePlugin("vault")
        try repo.write("examples/plugins/vault/ui/config.schema.json", Self.secretSchema)
        try repo.writeEntry("vault", version: "1.0.0")
        try repo.write("desired-state/config/plugins/vault.config.yaml", "token: tok-OLD-SECRET\n")
        try repo.commit("vault 1.0.0, token secret")
        #expect(try repo.reconciler().apply().failures.isEmpty)

        // 2.0.0 forgets to mark the token secret; the old value must not leak through the plan.
        try repo.replace("examples/plugins/vault/plugin.json", "\"version\": \"1.0.0\"", with: "\"version\": \"2.0.0\"")
        try repo.write("examples/plugins/vault/ui/config.schema.json",
                       Self.secretSchema.replacingOccurrences(of: ", \"x-kaipm-secret\": true", with: ""))
        try repo.replace("desired-state/plugins/vault.yaml", "version: 1.0.0", with: "version: 2.0.0")
        try repo.write("desired-state/config/plugins/vault.config.yaml", "token: tok-NEW-VALUE\n")
        try repo.commit("vault 2.0.0")
        for incremental in [true, false] {
            var options = repo.reconciler().options
            options.incremental = incremental
            let plan = try Reconciler(options: options).plan()
            #expect(plan.action(.configure, "vault")?.changes == [
                FieldChange(field: "config.token", before: "(secret)", after: "(secret)"),
            ], "incremental: \(incremental)")
            #expect(!PlanRenderer.compactJSON(plan).contains("tok-OLD-SECRET"))
        }
    }

    @Test("a secret never appears in plan, apply, diff, status, history, audit, validate, config show or verbose output")
    func secretNeverShown() throws {
        let repo = try TestRepo(examples: [])
        try repo.generatePlugin("vault")
        try repo.write("examples/plugins/vault/ui/config.schema.json", Self.secretSchema)
        try repo.writeEntry("vault", version: "1.0.0")
        try repo.write("desired-state/config/plugins/vault.config.yaml", "token: tok-SUPERSECRET-1\n")
        try repo.commit("vault with a secret")
        var outputs: [String: String] = [:]
        func run(_ label: String, _ args: [String], plain: Bool = false, expect status: Int32 = 0) throws {
            let result = try repo.kaipm(args, plain: plain)
            #expect(result.status == status, "\(label): \(result)")
            outputs[label] = result.output
        }
        for format in ["text", "json", "markdown"] { try run("plan \(format)", ["plan", "--format", format, "--verbose"]) }
        try run("apply", ["apply", "--format", "json", "--verbose"])
        let rendered = try String(contentsOfFile: repo.layout.configFile("vault"), encoding: .utf8)
        #expect(rendered.contains("tok-SUPERSECRET-1"), "the plugin itself gets the secret")

        try repo.write("desired-state/config/plugins/vault.config.yaml", "token: tok-SUPERSECRET-2\nsize: 2\n")
        try repo.commit("rotate the secret")
        let plan = try repo.reconciler().plan()
        #expect(plan.action(.configure, "vault")?.changes == [
            FieldChange(field: "config.size", before: "1", after: "2"),
            FieldChange(field: "config.token", before: "(secret)", after: "(secret)"),
        ])
        for format in ["text", "json", "markdown"] {
            try run("diff \(format)", ["diff", "--from", "HEAD~1", "--to", "HEAD", "--host", repo.host, "--format", format], plain: true)
        }
        try run("apply 2", ["apply", "--verbose"])

        try repo.write("desired-state/config/plugins/vault.config.yaml", "token: bad-SUPERSECRET-3\nsize: 3\n")
        try repo.commit("a secret the schema refuses")
        let blocked = try repo.reconciler().plan()
        #expect(blocked.blocked.first?.problems
                == ["desired-state/config/plugins/vault.config.yaml:1:8: plugin 'vault': /token: (secret) does not match the pattern ^tok- (pattern)"])
        try run("plan blocked", ["plan", "--format", "json"])
        try run("apply blocked", ["apply"])
        try run("diff blocked", ["diff", "--from", "HEAD~2", "--to", "HEAD", "--all-hosts", "--format", "json"], plain: true)
        try run("validate", ["validate"], expect: 1)
        try run("config show", ["config", "show", "vault", "--format", "json"], plain: true, expect: 1)
        for command in ["status", "history", "audit"] {
            try run(command, [command])
            try run("\(command) json", [command, "--format", "json"])
        }
        #expect(outputs["status"]?.contains("vault: Blocked=True") == true, "\(outputs["status"] ?? "")")
        #expect(outputs["status"]?.contains("/token: (secret) does not match") == true, "\(outputs["status"] ?? "")")
        #expect(outputs["audit json"]?.contains("config.token") == true, "the audit log records that the secret changed")
        for (label, output) in outputs {
            #expect(!output.contains("SUPERSECRET"), "\(label) shows the secret:\n\(output)")
        }
        #expect(outputs.count == 19)
    }
}
