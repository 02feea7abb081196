import Testing
@testable import KaipmCore

@Suite struct PlannerTests {
    static let hashA = TreeHash(files: [(path: "a", sha256: Array(repeating: 1, count: 32))])
    static let hashB = TreeHash(files: [(path: "a", sha256: Array(repeating: 2, count: 32))])

    static func want(_ id: String, version: String = "1.0.0", hash: TreeHash = hashA, active: Bool = true,
                     config: ConfigValue = .map(["k": .int(1)]), dependsOn: [String] = []) -> ResolvedPlugin {
        ResolvedPlugin(id: id, name: id, version: SemanticVersion(version)!, source: "path:src/\(id)", treeHash: hash,
                       active: active, dependsOn: dependsOn, config: config)
    }

    static func have(_ plugin: ResolvedPlugin) -> ObservedPlugin { ObservedPlugin(simulating: plugin, revision: "r0") }

    static let context = Planner.Context(host: "h", revision: "r1", pinned: true)

    static func kinds(_ plan: Plan) -> [String] { plan.actions.map { "\($0.action.rawValue) \($0.plugin)" } }

    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var desired: [ResolvedPlugin]
        var observed: [ObservedPlugin]
        var expected: [String]
        var description: String { name }
    }

    static let cases: [Case] = {
        var tamperedStore = have(want("a"))
        tamperedStore.storeProblems = ["'main.py' modified"]
        var editedRow = have(want("a"))
        editedRow.registryProblems = ["the row was edited outside kaipm"]
        var missingConfig = have(want("a"))
        missingConfig.configFileHash = nil
        return [
            Case(name: "nothing to do", desired: [want("a")], observed: [have(want("a"))], expected: []),
            Case(name: "fresh install, dependencies first", desired: [want("b", dependsOn: ["a"]), want("a")], observed: [],
                 expected: ["install a", "install b", "configure a", "configure b", "activate a", "activate b"]),
            Case(name: "inactive install", desired: [want("a", active: false)], observed: [], expected: ["install a", "configure a"]),
            Case(name: "version change", desired: [want("a", version: "1.1.0", hash: hashB)], observed: [have(want("a"))],
                 expected: ["update a"]),
            Case(name: "config change", desired: [want("a", config: .map(["k": .int(2)]))], observed: [have(want("a"))],
                 expected: ["configure a"]),
            Case(name: "deactivate", desired: [want("a", active: false)], observed: [have(want("a"))], expected: ["deactivate a"]),
            Case(name: "activate", desired: [want("a")], observed: [have(want("a", active: false))], expected: ["activate a"]),
            Case(name: "remove, dependents first", desired: [], observed: [have(want("a")), have(want("b", dependsOn: ["a"]))],
                 expected: ["deactivate b", "deactivate a", "remove b", "remove a"]),
            Case(name: "tampered store", desired: [want("a")], observed: [tamperedStore], expected: ["repair a"]),
            Case(name: "edited registry row", desired: [want("a")], observed: [editedRow], expected: ["repair a"]),
            Case(name: "missing config file", desired: [want("a")], observed: [missingConfig], expected: ["configure a"]),
        ]
    }()

    @Test(arguments: cases)
    func plansTheExpectedActions(_ testCase: Case) {
        let plan = Planner.plan(desired: Dictionary(uniqueKeysWithValues: testCase.desired.map { ($0.id, $0) }), blocked: [:],
                                observed: ObservedState(plugins: Dictionary(uniqueKeysWithValues: testCase.observed.map { ($0.id, $0) })),
                                context: Self.context)
        #expect(Self.kinds(plan) == testCase.expected)
    }

    @Test func blockedPluginIsNeverRemoved() {
        let plan = Planner.plan(desired: [:], blocked: ["a": [Diagnostic("broken")]],
                                observed: ObservedState(plugins: ["a": Self.have(Self.want("a"))]), context: Self.context)
        #expect(plan.actions.isEmpty)
        #expect(plan.blocked.map(\.plugin) == ["a"])
    }

    @Test func suspendedPluginIsLeftAlone() {
        var plugin = Self.want("a", version: "2.0.0", hash: Self.hashB)
        plugin.suspend = true
        let plan = Planner.plan(desired: ["a": plugin], blocked: [:],
                                observed: ObservedState(plugins: ["a": Self.have(Self.want("a"))]), context: Self.context)
        #expect(plan.actions.isEmpty)
        #expect(plan.suspended == ["a"])
    }

    @Test func configChangesAreKeyByKeyAndSecretsMasked() {
        var target = Self.want("a", config: .map(["units": .string("imperial"), "api": .map(["key": .string("s3cret")])]))
        target.secretPaths = ["api.key"]
        let before = Self.have(Self.want("a", config: .map(["units": .string("metric"), "api": .map(["key": .string("old")])])))
        let plan = Planner.plan(desired: ["a": target], blocked: [:], observed: ObservedState(plugins: ["a": before]),
                                context: Self.context)
        let changes = plan.actions.first?.changes ?? []
        #expect(changes == [FieldChange(field: "config.api.key", before: Planner.mask, after: Planner.mask),
                            FieldChange(field: "config.units", before: "\"metric\"", after: "\"imperial\"")])
        #expect(!PlanRenderer.json(plan).contains("s3cret"))
        #expect(!PlanRenderer.markdown(plan).contains("s3cret"))
    }

    @Test func fingerprintMovesWithTheObservedState() {
        let base = ObservedState(plugins: ["a": Self.have(Self.want("a"))])
        var moved = base
        moved.plugins["a"]?.isActive = false
        #expect(base.fingerprint != moved.fingerprint)
        #expect(base.fingerprint == ObservedState(plugins: ["a": Self.have(Self.want("a"))]).fingerprint)
    }

    @Test func planJSONRoundTrips() throws {
        let plan = Planner.plan(desired: ["a": Self.want("a")], blocked: [:], observed: ObservedState(), context: Self.context)
        let text = PlanRenderer.json(plan)
        let decoded = try JSONDecoder().decode(Plan.self, from: Data(text.utf8))
        #expect(decoded == plan)
        #expect(text.contains("\"formatVersion\" : 1"))
    }
}

import Foundation
