import Testing
@testable import KaipmCore

/// Preloaded core plugins with `sandbox: false` are started, stopped and restarted like sandboxed
/// ones, and a flip of the flag restarts them (no I/O).
@Suite struct UnsandboxedPlannerTests {
    typealias P = PlannerTests
    typealias S = SandboxPlannerTests

    /// A preloaded core plugin whose entry says `sandbox: false`.
    static func core(_ id: String = "core", active: Bool = true) -> ResolvedPlugin {
        var plugin = P.want(id, active: active)
        plugin.preloaded = true
        plugin.sandbox = false
        return plugin
    }

    /// What a host running `plugin` observes, with the isolation its status file reports.
    static func running(_ plugin: ResolvedPlugin, sandboxed: Bool?) -> ObservedPlugin {
        var observed = S.running(plugin)
        observed.sandbox?.sandboxed = sandboxed
        return observed
    }

    @Test func onlyAPreloadedPluginThatSaysSoRunsUnsandboxed() {
        #expect(!Self.core().runsSandboxed)
        #expect(Self.core().isolation == "unsandboxed")
        var notPreloaded = Self.core()
        notPreloaded.preloaded = false
        #expect(notPreloaded.runsSandboxed, "the resolver refuses such an entry; were one to get through, it is sandboxed")
        var preloadedSandboxed = P.want("core")
        preloadedSandboxed.preloaded = true
        #expect(preloadedSandboxed.runsSandboxed)
    }

    @Test func anUnsandboxedCorePluginIsStartedStoppedAndRestartedLikeAnyOther() {
        let first = S.plan([Self.core()], [])
        #expect(P.kinds(first) == ["install core", "configure core", "activate core", "start core"])
        // The plan a reviewer reads says it runs without bubblewrap; a sandboxed start says nothing of it.
        #expect(first.actions.last?.changes == [FieldChange(field: "running", before: "false", after: "true"),
                                                 FieldChange(field: "running.isolation", before: nil, after: "unsandboxed")])
        #expect(S.plan([P.want("a")], []).actions.last?.changes.map(\.field) == ["running"])
        #expect(S.plan([Self.core()], [Self.running(Self.core(), sandboxed: false)]).actions.isEmpty)
        var dead = Self.running(Self.core(), sandboxed: false)
        dead.sandbox?.alive = false
        dead.sandbox?.state = "exited"
        dead.sandbox?.exitReason = "Crashed"
        #expect(S.plan([Self.core()], [dead]).actions.map(\.reason) == ["dead (Crashed)"])
        #expect(S.plan([Self.core()], [dead]).actions.first?.changes.map(\.field) == ["running"], "it ran unsandboxed already")
        dead.sandbox?.sandboxed = true
        #expect(S.plan([Self.core()], [dead]).actions.first?.changes.last
                    == FieldChange(field: "running.isolation", before: "sandboxed", after: "unsandboxed"))
        #expect(P.kinds(S.plan([Self.core(active: false)], [Self.running(Self.core(), sandboxed: false)])) == ["stop core", "deactivate core"])
    }

    @Test(arguments: [(false, true), (true, false)])
    func flippingTheSandboxRestartsIt(runningSandboxed: Bool, wantSandboxed: Bool) throws {
        var want = Self.core()
        want.sandbox = wantSandboxed
        let plan = S.plan([want], [Self.running(Self.core(), sandboxed: runningSandboxed)])
        #expect(P.kinds(plan) == ["restart core"])
        let restart = try #require(plan.actions.first)
        #expect(restart.reason == "isolation changed")
        #expect(restart.changes == [FieldChange(field: "running.isolation", before: runningSandboxed ? "sandboxed" : "unsandboxed",
                                                after: wantSandboxed ? "sandboxed" : "unsandboxed")])
    }

    @Test func anUnknownIsolationRestartsNothing() {
        // A supervisor still preparing has written no isolation report yet.
        #expect(S.plan([Self.core()], [Self.running(Self.core(), sandboxed: nil)]).actions.isEmpty)
    }

    @Test func theFingerprintMovesWhenTheIsolationDoes() {
        let prints = [true, false, nil].map { sandboxed in
            ObservedState(plugins: ["core": Self.running(Self.core(), sandboxed: sandboxed)]).fingerprint
        }
        #expect(prints[0] != prints[1])
        // Sandboxed and not yet known print alike: fingerprints of sandboxed hosts did not change.
        #expect(prints[0] == prints[2])
    }
}
