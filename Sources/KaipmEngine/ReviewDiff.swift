import Foundation
import KaipmCore
import KaipmStore

/// `kaipm diff`: what would change on each host between two revisions, from desired state alone.
///
/// The older revision's resolution stands in for the observed state of a host that had converged
/// to it, so the diff is exactly the plan such a host would make. No registry, no host needed.
public enum ReviewDiff {
    /// One host's part of a diff: a plan, or why that host cannot be planned.
    public struct HostDiff: Sendable, Codable {
        public var host: String
        public var plan: Plan?
        public var error: String?
    }

    /// The diff for `hosts`, or for every host named in either revision when `hosts` is nil.
    public static func diff(repo: String, path: String, from: String, to: String, hosts: [String]?,
                            limits: TreeLimits = TreeLimits()) throws(EngineError) -> [HostDiff] {
        let after = try DesiredLoader.load(.git(repo: repo, rev: to, path: path, fetch: false))
        // A base revision from before the desired-state folder existed is an empty desired state.
        let before: LoadedDesired
        do {
            before = try DesiredLoader.load(.git(repo: repo, rev: from, path: path, fetch: false))
        } catch .desiredStateMissing {
            before = LoadedDesired(state: DesiredState(), revision: from, pinned: true, sourceTree: after.sourceTree,
                                   identity: nil, fetched: nil)
        }
        let names = hosts ?? Array(Set(before.state.hosts.keys).union(after.state.hosts.keys)
            .union(before.state.invalidHosts.keys).union(after.state.invalidHosts.keys)).sorted()
        let scratch = PluginStore(directory: "/nonexistent/kaipm-diff-store")
        var beforeResolver = PluginResolver(loaded: before, store: scratch, limits: limits, hashCache: [:])
        var afterResolver = PluginResolver(loaded: after, store: scratch, limits: limits, hashCache: [:])
        afterResolver.configSchemas = beforeResolver.configSchemas   // a schema both revisions share compiles once
        var result: [HostDiff] = []
        for name in names {
            let target: HostDesiredState
            do {
                target = try after.state.forHost(name)
            } catch {
                result.append(HostDiff(host: name, plan: nil, error: error.description))
                continue
            }
            var observed = ObservedState()
            if let base = try? before.state.forHost(name) {
                let resolution = beforeResolver.resolve(base)
                for (id, plugin) in resolution.resolved {
                    observed.plugins[id] = ObservedPlugin(simulating: plugin, revision: before.revision)
                }
            }
            let resolution = afterResolver.resolve(target)
            let plan = Planner.plan(desired: resolution.resolved, blocked: resolution.blocked, observed: observed,
                                    context: Planner.Context(host: name, revision: after.revision, pinned: true),
                                    warnings: resolution.warnings)
            result.append(HostDiff(host: name, plan: plan, error: nil))
        }
        return result
    }
}
