import Foundation

/// A desired plugin resolved against its source: the bytes it stands for (tree hash) and its
/// merged config. This, not the raw YAML, is what the planner compares with the host.
public struct ResolvedPlugin: Sendable, Hashable, Codable {
    public var id: String
    public var name: String
    public var version: SemanticVersion
    /// Where the bytes come from, as text (`path:examples/plugins/weather`).
    public var source: String
    public var treeHash: TreeHash
    public var active: Bool
    public var suspend: Bool
    public var preloaded: Bool
    public var dependsOn: [String]
    /// The merged config: schema defaults, then the config file, then the host's overrides.
    public var config: ConfigValue
    /// Dotted config paths whose values are secret and must never be shown.
    public var secretPaths: Set<String>
    public var grants: Grants
    public var resources: Resources
    /// The desired entry's `sandbox` (default true); see `runsSandboxed` for what it gets.
    public var sandbox: Bool
    /// The manifest's Python entry point (`main.py`), what the sandbox's harness imports first.
    public var main: String = "main.py"
    /// The manifest's hooks: name → file (`onLoad` → `hooks/onLoad.py`).
    public var hooks: [String: String] = [:]
    /// kos.config.yaml's `isolation.allowWeaker`: start even where a limit cannot be enforced.
    public var allowWeakerIsolation = false

    public init(id: String, name: String, version: SemanticVersion, source: String, treeHash: TreeHash,
                active: Bool, suspend: Bool = false, preloaded: Bool = false, dependsOn: [String] = [],
                config: ConfigValue = .map([:]), secretPaths: Set<String> = [], grants: Grants = Grants(),
                resources: Resources = Resources(), sandbox: Bool = true) {
        self.id = id
        self.name = name
        self.version = version
        self.source = source
        self.treeHash = treeHash
        self.active = active
        self.suspend = suspend
        self.preloaded = preloaded
        self.dependsOn = dependsOn
        self.config = config
        self.secretPaths = secretPaths
        self.grants = grants
        self.resources = resources
        self.sandbox = sandbox
    }

    /// The rendered config file's text.
    public var renderedConfig: String { config.renderYAML() }

    /// Whether the plugin runs in bubblewrap: always, except a core plugin preloaded in
    /// kos.config.yaml whose entry says `sandbox: false` (the resolver refuses that entry for any
    /// other plugin, and this is the second lock on the same door).
    public var runsSandboxed: Bool { sandbox || !preloaded }

    /// `runsSandboxed` as the plan and `kaipm status` show it.
    public var isolation: String { runsSandboxed ? "sandboxed" : "unsandboxed" }

    /// SHA-256 (hex) of the rendered config: what the host's file must hash to.
    public var configHash: String { Hex.sha256(Array(renderedConfig.utf8)) }

    /// The quotas a sandbox is started with, as one canonical line (`-` for the host default):
    /// what a running sandbox is compared with to plan a restart.
    public var quotaSignature: String {
        "memory=\(resources.memoryBytes.map(String.init) ?? "-") cpu=\(resources.cpu.map { "\($0)" } ?? "-") pids=\(resources.pids.map(String.init) ?? "-")"
    }

    /// The grants a sandbox is started with, as one canonical line.
    public var grantsSignature: String {
        let paths = grants.filesystem.map { "\($0.path):\($0.mode.rawValue)" }.sorted()
        return "network=\(grants.network.sorted().joined(separator: ",")) paths=\(paths.joined(separator: ","))"
    }
}

/// What the host runs for one plugin: its supervisor and sandbox, as the status file, the
/// supervisor's lock and the registry's sandbox record say. Only observed when kaipm manages
/// sandboxes on the host (`ObservedPlugin.sandbox` is nil otherwise).
public struct ObservedSandbox: Sendable, Hashable, Codable {
    /// The supervisor holds its lock and its sandbox is starting or running.
    public var alive: Bool
    /// The status file's state (`starting`, `running`, `stopping`, `exited`); nil without one.
    public var state: String?
    /// The tree hash the sandbox was started with (echoed in its status file).
    public var treeHash: String?
    /// The rendered config's hash the sandbox was started with.
    public var configHash: String?
    /// `ResolvedPlugin.quotaSignature` and `grantsSignature` at the last start (from the registry).
    public var quota: String?
    public var grants: String?
    /// How often the reconciler restarted it.
    public var restarts: Int
    /// How it ended, when it did (`Unloaded`, `Crashed`, …, or `SupervisorDied`).
    public var exitReason: String?
    /// Whether it runs (or last ran) in bubblewrap, from its status file's isolation report; nil
    /// when that says nothing (no status file, or a supervisor still preparing).
    public var sandboxed: Bool? = nil
    /// Consecutive restarts after a crash of the same revision (the crash-loop backoff's exponent).
    public var failures: Int = 0
    /// When the reconciler last started it (seconds since 1970), from the registry.
    public var lastStartAt: Double? = nil
    /// The revision (tree hash and config hash) whose start failed and was rolled back, with why:
    /// not tried again until the desired revision differs.
    public var failedTreeHash: String? = nil
    public var failedConfigHash: String? = nil
    public var failedReason: String? = nil
    /// What its supervisor reported (limits hit, the end) that the audit log does not have yet.
    /// Not part of the fingerprint: auditing them changes nothing a plan depends on.
    public var events: [SandboxEvent] = []

    public init(alive: Bool, state: String? = nil, treeHash: String? = nil, configHash: String? = nil, quota: String? = nil,
                grants: String? = nil, restarts: Int = 0, exitReason: String? = nil) {
        self.alive = alive
        self.state = state
        self.treeHash = treeHash
        self.configHash = configHash
        self.quota = quota
        self.grants = grants
        self.restarts = restarts
        self.exitReason = exitReason
    }
}

/// What the host has for one plugin: its registry row, checked against the store and the config file.
public struct ObservedPlugin: Sendable, Hashable, Codable {
    public var id: String
    public var name: String
    public var version: SemanticVersion?
    public var source: String
    /// The registry's checksum; nil if the row's checksum is unreadable.
    public var treeHash: TreeHash?
    public var isActive: Bool
    public var dependsOn: [String]
    /// The config the registry recorded at the last configure, as JSON: decoded only when a
    /// plan needs its keys, which keeps observing a thousand plugins cheap.
    public var configJSON: String?
    /// The hash of the rendered config the registry recorded at the last configure.
    public var recordedConfigHash: String?
    /// SHA-256 of the rendered config file as it is on disk now; nil when the file is missing.
    public var configFileHash: String?
    /// The revision that last changed this plugin.
    public var revision: String?
    /// Why the store entry is not intact (empty when it is).
    public var storeProblems: [String]
    /// Why the registry row is not trustworthy (edited by hand, say); empty when it is.
    public var registryProblems: [String]
    /// Config paths that were secret under the schema the config was recorded with, where known,
    /// so that a secret the new version no longer declares is still masked on its way out.
    public var secretPaths: Set<String> = []
    /// Its supervisor and sandbox; nil when kaipm does not manage sandboxes on this host.
    public var sandbox: ObservedSandbox? = nil

    public init(id: String, name: String, version: SemanticVersion?, source: String, treeHash: TreeHash?,
                isActive: Bool, dependsOn: [String] = [], configJSON: String? = nil, recordedConfigHash: String? = nil,
                configFileHash: String? = nil,
                revision: String? = nil, storeProblems: [String] = [], registryProblems: [String] = []) {
        self.id = id
        self.name = name
        self.version = version
        self.source = source
        self.treeHash = treeHash
        self.isActive = isActive
        self.dependsOn = dependsOn
        self.configJSON = configJSON
        self.recordedConfigHash = recordedConfigHash
        self.configFileHash = configFileHash
        self.revision = revision
        self.storeProblems = storeProblems
        self.registryProblems = registryProblems
    }

    /// What a host that converged exactly to `plugin` would observe: used by `kaipm diff`,
    /// which compares two revisions without any host.
    public init(simulating plugin: ResolvedPlugin, revision: String?) {
        self.init(id: plugin.id, name: plugin.name, version: plugin.version, source: plugin.source,
                  treeHash: plugin.treeHash, isActive: plugin.active, dependsOn: plugin.dependsOn,
                  configJSON: PlanRenderer.compactJSON(plugin.config), recordedConfigHash: plugin.configHash,
                  configFileHash: plugin.configHash, revision: revision)
        secretPaths = plugin.secretPaths
    }

    /// The recorded config, decoded; nil when none was recorded or it is unreadable.
    public var config: ConfigValue? {
        configJSON.flatMap { try? JSONDecoder().decode(ConfigValue.self, from: Data($0.utf8)) }
    }
}

/// Everything observed on a host, and its fingerprint for the stale-plan check.
public struct ObservedState: Sendable, Hashable, Codable {
    public var plugins: [String: ObservedPlugin]

    public init(plugins: [String: ObservedPlugin] = [:]) { self.plugins = plugins }

    /// SHA-256 over a canonical line per plugin: changes whenever anything the plan depends on does.
    public var fingerprint: String {
        // Every run computes this over every plugin: appended field by field, no array per plugin.
        var text = ""
        text.reserveCapacity(plugins.count * 256)
        for id in plugins.keys.sorted() {
            guard let p = plugins[id] else { continue }
            text += p.id
            text += "\t"; text += p.version?.description ?? "-"
            text += "\t"; text += p.treeHash?.value ?? "-"
            text += p.isActive ? "\t1\t" : "\t0\t"
            text += p.configFileHash ?? "-"
            text += "\t"; text += p.recordedConfigHash ?? "-"
            text += "\t"; text += p.storeProblems.joined(separator: ";")
            text += "\t"; text += p.registryProblems.joined(separator: ";")
            text += "\t"; text += p.dependsOn.joined(separator: ",")
            if let sandbox = p.sandbox {
                text += sandbox.alive ? "\tsandbox:up\t" : "\tsandbox:down\t"
                text += sandbox.treeHash ?? "-"
                text += "\t"; text += sandbox.configHash ?? "-"
                text += "\t"; text += sandbox.quota ?? "-"
                text += "\t"; text += sandbox.grants ?? "-"
                text += "\t"; text += String(sandbox.restarts)
                text += "\t"; text += String(sandbox.failures)
                text += "\t"; text += sandbox.failedTreeHash ?? "-"
                text += "\t"; text += sandbox.failedConfigHash ?? "-"
                // Only when false: the fingerprints of sandboxed plugins stay what they were.
                if sandbox.sandboxed == false { text += "\tunsandboxed" }
            }
            text += "\n"
        }
        return "sha256:" + Hex.sha256(Array(text.utf8))
    }
}
