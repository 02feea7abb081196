import Testing
@testable import KaipmCore

@Suite struct DesiredStateTests {
    @Test func parsesEntriesHostsAndConfigs() throws {
        let tree = MemoryTree([
            "kos.config.yaml": "apiVersion: kaipm/v1\nkind: KosConfig\npreload: [core]\nreconcileInterval: 2m\n",
            "plugins/core.yaml": pluginYAML("core"),
            "plugins/weather.yaml": pluginYAML("weather", version: "1.2.0", extra: "dependsOn: [core]\nhosts: {labels: {role: edge}}\ngrants: {network: [\"api.example:443\"]}\nresources: {memory: 128Mi, cpu: 0.25, pids: 32}"),
            "config/plugins/weather.config.yaml": "units: metric\n",
            "hosts/edge-01.yaml": "labels: {role: edge}\nplugins:\n  weather:\n    config: {units: imperial}\n",
        ])
        let state = try DesiredState.load(from: tree, prefix: "desired-state/")
        #expect(state.invalid.isEmpty)
        #expect(state.kos.preload == ["core"])
        #expect(state.kos.reconcileIntervalSeconds == 120)
        let weather = try #require(state.plugins["weather"])
        #expect(weather.version == SemanticVersion("1.2.0"))
        #expect(weather.resources.memoryBytes == 128 << 20)
        #expect(weather.resources.cpu == 0.25)
        #expect(weather.grants.network == ["api.example:443"])

        let edge = try state.forHost("edge-01")
        #expect(Set(edge.plugins.keys) == ["core", "weather"])
        #expect(edge.plugins["weather"]?.hostConfig != nil)
        let office = try state.forHost("office-01")
        #expect(Set(office.plugins.keys) == ["core"], "label selector keeps weather off other hosts; core is preloaded")
    }

    /// Each bad entry blocks its plugin with a message naming file, line and column, and the others still load.
    @Test(arguments: [
        ("verison: 2", "unknown key 'verison'", "did you mean 'version'?", 7),
        ("active: maybe", "'active' must be true or false", nil, 7),
        ("dependsOn: core", "'dependsOn' must be a list of strings", nil, 7),
        ("checksum: sha256:abc", "is not an h1: tree hash", "kaipm hash", 7),
        ("resources: {memory: lots}", "'memory' must be a size", nil, 7),
        ("grants: {filesystem: [{path: /proc/self, mode: ro}]}", "is forbidden", nil, 7),
        ("source: {dir: /opt/x}", "requires a 'checksum' pin", nil, nil),
    ] as [(String, String, String?, Int?)])
    func badEntryBlocksOnlyThatPlugin(extra: String, message: String, hint: String?, line: Int?) throws {
        var yaml = pluginYAML("broken", extra: extra)
        if extra.hasPrefix("source:") {
            yaml = "apiVersion: kaipm/v1\nkind: Plugin\nid: broken\nversion: 1.0.0\n" + extra + "\n"
        }
        let tree = MemoryTree(["plugins/broken.yaml": yaml, "plugins/good.yaml": pluginYAML("good")])
        let state = try DesiredState.load(from: tree, prefix: "ds/")
        #expect(state.plugins["good"] != nil)
        #expect(state.plugins["broken"] == nil)
        let problems = try #require(state.invalid["broken"])
        let problem = try #require(problems.first { $0.message.contains(message) }, "\(problems)")
        #expect(problem.location?.file == "ds/plugins/broken.yaml")
        if let line { #expect(problem.location?.line == line, "\(problem)") }
        if let hint { #expect(problem.hint?.contains(hint) == true, "\(problem)") }
        #expect(problem.pluginID == "broken")
    }

    @Test func grantsOfAnUnsandboxedPluginAreFlaggedAsNotEnforced() throws {
        let tree = MemoryTree([
            "kos.config.yaml": "apiVersion: kaipm/v1\nkind: KosConfig\npreload: [core, bare]\n",
            "plugins/core.yaml": pluginYAML("core", extra: "sandbox: false\ngrants:\n  filesystem: [{path: /srv/logs, mode: ro}]"),
            "plugins/bare.yaml": pluginYAML("bare", extra: "sandbox: false"),
            "plugins/boxed.yaml": pluginYAML("boxed", extra: "grants:\n  network: [\"api.example:443\"]"),
        ])
        let state = try DesiredState.load(from: tree, prefix: "ds/")
        let flagged = state.warnings.filter { $0.message.contains("not enforced") }
        #expect(flagged.map(\.pluginID) == ["core"], "\(state.warnings)")
        #expect(flagged.first?.location?.file == "ds/plugins/core.yaml")
    }

    @Test func malformedYAMLNamesLineAndColumn() throws {
        let tree = MemoryTree(["plugins/x.yaml": "id: x\nversion: [1.0\nsource: {path: a}\n"])
        let state = try DesiredState.load(from: tree)
        let problem = try #require(state.invalid["x"]?.first)
        #expect(problem.message.contains("invalid YAML"))
        #expect((problem.location?.line ?? 0) >= 2)
        #expect((problem.location?.column ?? 0) > 0)
    }

    @Test func billionLaughsIsRefusedWithoutExpanding() throws {
        var yaml = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1...9 {
            let refs = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            yaml += "a\(level): &a\(level) [\(refs)]\n"
        }
        let tree = MemoryTree(["plugins/bomb.yaml": yaml, "plugins/good.yaml": pluginYAML("good")])
        let clock = ContinuousClock()
        let start = clock.now
        let state = try DesiredState.load(from: tree)
        #expect(clock.now - start < .seconds(5))
        let problem = try #require(state.invalid["bomb"]?.first)
        #expect(problem.message.contains("expands to more than"))
        #expect(state.plugins["good"] != nil)
    }

    @Test func dependencyCycleIsNamedAndBlocksItsMembers() throws {
        let tree = MemoryTree([
            "plugins/a.yaml": pluginYAML("a", extra: "dependsOn: [b]"),
            "plugins/b.yaml": pluginYAML("b", extra: "dependsOn: [c]"),
            "plugins/c.yaml": pluginYAML("c", extra: "dependsOn: [a]"),
            "plugins/d.yaml": pluginYAML("d"),
        ])
        let state = try DesiredState.load(from: tree)
        #expect(state.plugins.keys.sorted() == ["d"])
        let message = try #require(state.invalid["b"]?.first?.message)
        #expect(message == "dependsOn cycle: a → b → c → a")
    }

    @Test func idMustMatchFileName() throws {
        let tree = MemoryTree(["plugins/x.yaml": pluginYAML("y")])
        let state = try DesiredState.load(from: tree)
        #expect(state.invalid["x"]?.first?.message.contains("does not match the file name") == true)
    }

    @Test func duplicateKeysAreErrors() throws {
        let tree = MemoryTree(["plugins/x.yaml": pluginYAML("x") + "\nactive: true\nactive: false\n"])
        let state = try DesiredState.load(from: tree)
        #expect(state.invalid["x"]?.first?.message.contains("duplicate key 'active'") == true, "\(state.invalid)")
    }

    @Test func invalidKosConfigStopsEverything() {
        let tree = MemoryTree(["kos.config.yaml": "preload: core\nreconcileIntervall: 5m\n", "plugins/x.yaml": pluginYAML("x")])
        #expect(throws: DesiredStateError.self) { try DesiredState.load(from: tree) }
    }

    @Test func invalidHostFileRefusesThatHostOnly() throws {
        let tree = MemoryTree(["plugins/x.yaml": pluginYAML("x"), "hosts/bad.yaml": "labels: [role]\n"])
        let state = try DesiredState.load(from: tree)
        #expect(throws: DesiredStateError.self) { try state.forHost("bad") }
        #expect(try state.forHost("good").plugins["x"] != nil)
    }

    @Test func dependencyOnUnselectedPluginBlocksDependent() throws {
        let tree = MemoryTree([
            "plugins/base.yaml": pluginYAML("base", extra: "hosts: {labels: {role: edge}}"),
            "plugins/app.yaml": pluginYAML("app", extra: "dependsOn: [base]"),
        ])
        let host = try DesiredState.load(from: tree).forHost("office")
        #expect(host.plugins.isEmpty)
        #expect(host.blocked["app"]?.first?.message.contains("not desired on host 'office'") == true)
    }

    @Test func yamlCoreSchemaKeepsNorwayAString() throws {
        let node = try YAMLDocument.parse(Array("country: no\nflag: on\nyes: true\n".utf8), file: "f")
        guard case let .mapping(pairs) = node.value else { Issue.record("not a mapping"); return }
        #expect(pairs[0].value.value == .string("no"))
        #expect(pairs[1].value.value == .string("on"))
        #expect(pairs[2].value.value == .bool(true))
    }
}
