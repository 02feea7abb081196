import Testing
@testable import KaipmCore

/// The planner's start, stop and restart actions, from observed sandboxes (no I/O).
@Suite struct SandboxPlannerTests {
    typealias P = PlannerTests
    static let context = Planner.Context(host: "h", revision: "r1", pinned: true, sandboxes: true)

    /// What a host running `plugin` exactly as desired observes.
    static func running(_ plugin: ResolvedPlugin, restarts: Int = 0) -> ObservedPlugin {
        var observed = P.have(plugin)
        observed.sandbox = ObservedSandbox(alive: true, state: "running", treeHash: plugin.treeHash.value, configHash: plugin.configHash,
                                           quota: plugin.quotaSignature, grants: plugin.grantsSignature, restarts: restarts)
        return observed
    }

    static func plan(_ desired: [ResolvedPlugin], _ observed: [ObservedPlugin], sandboxes: Bool = true) -> Plan {
        Planner.plan(desired: Dictionary(uniqueKeysWithValues: desired.map { ($0.id, $0) }), blocked: [:],
                     observed: ObservedState(plugins: Dictionary(uniqueKeysWithValues: observed.map { ($0.id, $0) })),
                     context: sandboxes ? context : P.context)
    }

    @Test func aNewActivePluginIsStartedLast() {
        let plan = Self.plan([P.want("b", dependsOn: ["a"]), P.want("a")], [])
        #expect(P.kinds(plan) == ["install a", "install b", "configure a", "configure b", "activate a", "activate b", "start a", "start b"])
        #expect(plan.action(.start, "a")?.reason == "not running")
    }

    @Test func withoutSandboxesNothingIsStartedOrStopped() {
        var dead = Self.running(P.want("a"))
        dead.sandbox?.alive = false
        #expect(P.kinds(Self.plan([P.want("a")], [dead], sandboxes: false)).isEmpty)
        #expect(P.kinds(Self.plan([P.want("a", active: false)], [Self.running(P.want("a"))], sandboxes: false)) == ["deactivate a"])
    }

    @Test func aRunningPluginAsDesiredNeedsNothing() {
        #expect(Self.plan([P.want("a")], [Self.running(P.want("a"))]).actions.isEmpty)
    }

    @Test func aDeadPluginIsRestartedWithHowItEnded() {
        var dead = Self.running(P.want("a"))
        dead.sandbox?.alive = false
        dead.sandbox?.state = "exited"
        dead.sandbox?.exitReason = "Crashed"
        let plan = Self.plan([P.want("a")], [dead])
        #expect(P.kinds(plan) == ["restart a"])
        #expect(plan.actions.first?.reason == "dead (Crashed)")
    }

    @Test func anActivePluginNeverStartedIsStarted() {
        var stopped = P.have(P.want("a"))
        stopped.sandbox = ObservedSandbox(alive: false)
        #expect(P.kinds(Self.plan([P.want("a")], [stopped])) == ["start a"])
    }

    @Test func versionConfigAndQuotaChangesRestartAfterTheUpdate() {
        let newer = P.want("a", version: "1.1.0", hash: P.hashB, config: .map(["k": .int(2)]))
        let plan = Self.plan([newer], [Self.running(P.want("a"))])
        #expect(P.kinds(plan) == ["update a", "configure a", "restart a"])
        #expect(plan.action(.restart, "a")?.reason == "version changed, config changed")

        var bigger = P.want("a")
        bigger.resources.memoryBytes = 512 << 20
        let quota = Self.plan([bigger], [Self.running(P.want("a"))])
        #expect(P.kinds(quota) == ["restart a"])
        #expect(quota.actions.first?.reason == "quota changed")
    }

    @Test func deactivatingAndRemovingStopFirst() {
        let deactivate = Self.plan([P.want("a", active: false)], [Self.running(P.want("a"))])
        #expect(P.kinds(deactivate) == ["stop a", "deactivate a"])
        let remove = Self.plan([], [Self.running(P.want("a")), Self.running(P.want("b", dependsOn: ["a"]))])
        #expect(P.kinds(remove) == ["stop b", "stop a", "deactivate b", "deactivate a", "remove b", "remove a"])
    }

    @Test func theFingerprintMovesWhenASandboxDiesOrRestarts() {
        let up = Self.running(P.want("a"))
        var down = up
        down.sandbox?.alive = false
        var restarted = up
        restarted.sandbox?.restarts = 1
        let prints = [up, down, restarted, P.have(P.want("a"))].map { ObservedState(plugins: ["a": $0]).fingerprint }
        #expect(Set(prints).count == 4)
    }

    static func plan(_ desired: [ResolvedPlugin], _ observed: [ObservedPlugin], now: Double, backoff: CrashBackoff) -> Plan {
        Planner.plan(desired: Dictionary(uniqueKeysWithValues: desired.map { ($0.id, $0) }), blocked: [:],
                     observed: ObservedState(plugins: Dictionary(uniqueKeysWithValues: observed.map { ($0.id, $0) })),
                     context: Planner.Context(host: "h", revision: "r1", pinned: true, sandboxes: true, now: now, backoff: backoff))
    }

    /// Someone stopped it (SIGTERM to its supervisor): not a crash, so no backoff; active still means running.
    @Test func aPluginStoppedOutsideKaipmStartsAgainAtOnce() {
        for reason in ["Stopped", "Unloaded"] {
            var stopped = Self.running(P.want("a"))
            stopped.sandbox?.alive = false
            stopped.sandbox?.state = "exited"
            stopped.sandbox?.exitReason = reason
            stopped.sandbox?.lastStartAt = 1000
            let plan = Self.plan([P.want("a")], [stopped], now: 1001, backoff: CrashBackoff(base: 10, cap: 300))
            #expect(P.kinds(plan) == ["restart a"])
            #expect(plan.actions.first?.reason == "stopped outside kaipm (\(reason))")
            #expect(plan.deferred == nil)
        }
    }

    @Test func theCrashLoopBackoffDoublesUpToItsCap() {
        let backoff = CrashBackoff(base: 10, cap: 300)
        #expect((0...6).map { backoff.delay(failures: $0) } == [10, 20, 40, 80, 160, 300, 300])
        #expect(CrashBackoff(base: 0).delay(failures: 3) == 0)
        #expect(CrashBackoff.timestamp(0) == "1970-01-01T00:00:00Z")
        #expect(CrashBackoff.timestamp(1_795_000_000) == "2026-11-18T11:06:40Z")
    }

    @Test func aDeadPluginOfTheSameRevisionIsRestartedOnlyAfterItsBackoff() {
        var dead = Self.running(P.want("a"))
        dead.sandbox?.alive = false
        dead.sandbox?.state = "exited"
        dead.sandbox?.exitReason = "Crashed"
        dead.sandbox?.failures = 2
        dead.sandbox?.lastStartAt = 1000
        let backoff = CrashBackoff(base: 10, cap: 300)
        let early = Self.plan([P.want("a")], [dead], now: 1030, backoff: backoff)
        #expect(early.actions.isEmpty)
        #expect(early.deferred?.first?.kind == "CrashLoop")
        #expect(early.deferred?.first?.until == 1040)
        #expect(early.deferred?.first?.reason.contains("back-off 40 s") == true)
        #expect(P.kinds(Self.plan([P.want("a")], [dead], now: 1041, backoff: backoff)) == ["restart a"])
        // A new revision is not held back.
        let newer = P.want("a", config: .map(["k": .int(9)]))
        #expect(P.kinds(Self.plan([newer], [dead], now: 1001, backoff: backoff)) == ["configure a", "restart a"])
    }

    @Test func aRevisionThatFailedAndWasRolledBackIsNotRetried() {
        let newer = P.want("a", version: "1.1.0", hash: P.hashB)
        var rolledBack = Self.running(P.want("a"))
        rolledBack.sandbox?.failedTreeHash = newer.treeHash.value
        rolledBack.sandbox?.failedConfigHash = newer.configHash
        rolledBack.sandbox?.failedReason = "LoadFailed"
        let plan = Self.plan([newer], [rolledBack])
        #expect(plan.actions.isEmpty)
        #expect(plan.deferred?.first?.kind == "FailedRevision")
        #expect(plan.deferred?.first?.action == .update)
        // Another revision is tried.
        let newest = P.want("a", version: "1.2.0", hash: P.hashB, config: .map(["k": .int(3)]))
        #expect(P.kinds(Self.plan([newest], [rolledBack])) == ["update a", "configure a", "restart a"])
    }
}

extension Plan {
    fileprivate func action(_ kind: ActionKind, _ plugin: String) -> PlanAction? {
        actions.first { $0.action == kind && $0.plugin == plugin }
    }

}
