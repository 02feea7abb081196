import Foundation
import KaipmCore
import KaipmSandbox
import Testing

/// The spec: what it refuses, and its file format.
@Suite("Sandbox spec")
struct SandboxSpecTests {
    static let spec = SandboxSpec(
        pluginID: "notes", root: "/var/lib/kaipm", storeEntry: "/var/lib/kaipm/kos/plugins/store/ab", dataDir: "/var/lib/kaipm/kos/data/notes",
        configFile: nil, entryPoints: EntryPoints(main: "main.py", hooks: ["onLoad": "hooks/onLoad.py"]),
        grants: SandboxGrants(filesystem: [FilesystemGrant(path: "/srv/maps", mode: .readWrite)], network: true),
        resources: SandboxResources(memoryBytes: 64 << 20, cpu: 0.25, pids: 16),
        identity: SandboxIdentity(uid: SandboxIdentity.firstUID + 7, gid: SandboxIdentity.firstUID + 7), version: "0.3.1", configHash: "sha256:ab")

    @Test func theSpecFileRoundTrips() throws {
        let text = Self.spec.json.text
        #expect(try SandboxSpec(json: JSON(parsing: text)) == Self.spec)
        // Defaults derived from the quotas: four times the memory, at least 1 GiB of address space.
        #expect(Self.spec.limits == ProcessLimits(addressSpaceBytes: 1 << 30, cpuSeconds: 86_400, fileSizeBytes: 64 << 20, openFiles: 256))
    }

    @Test func aSpecFromAnotherFormatIsRefused() throws {
        var json = Self.spec.json
        if case var .object(members) = json {
            members[0] = JSON.Member("formatVersion", .int(2))
            json = .object(members)
        }
        #expect(throws: SandboxError.self) { try SandboxSpec(json: json) }
    }

    struct Invalid: Sendable, CustomTestStringConvertible {
        var name: String
        var change: @Sendable (inout SandboxSpec) -> Void
        var reason: String
        var testDescription: String { name }
    }

    static let invalid: [Invalid] = [
        Invalid(name: "an id with a slash", change: { $0.pluginID = "../x" },
                reason: "the id must be 1-64 of a-z, 0-9, '-', '_' or '.', starting with a letter or digit"),
        Invalid(name: "a relative store entry", change: { $0.storeEntry = "store/ab" }, reason: "storeEntry must be an absolute path, not 'store/ab'"),
        Invalid(name: "python outside /usr", change: { $0.python = "/root/.pyenv/shims/python3" },
                reason: "python must live under /usr (the sandbox sees only /usr), not '/root/.pyenv/shims/python3'"),
        Invalid(name: "a hook outside the plugin", change: { $0.entryPoints.hooks["onLoad"] = "../evil.py" },
                reason: "entry point onLoad must be a relative .py path inside the plugin, not '../evil.py'"),
        Invalid(name: "too little memory", change: { $0.resources.memoryBytes = 1 << 20 }, reason: "memory must be at least 16Mi for Python to start"),
        Invalid(name: "a pids quota bubblewrap cannot start with", change: { $0.resources.pids = 2 },
                reason: "pids must be at least 4 (bubblewrap takes 2, Python 1)"),
        Invalid(name: "root as the sandbox user", change: { $0.identity = SandboxIdentity(uid: 0, gid: 0) },
                reason: "the sandbox identity must not be root (uid/gid 0)"),
    ]

    @Test(arguments: invalid)
    func refuses(_ case: Invalid) {
        var spec = Self.spec
        `case`.change(&spec)
        #expect(throws: SandboxError.invalidSpec(plugin: spec.pluginID, reason: `case`.reason)) { try spec.validate() }
    }

    @Test func aStoreEntryOutsideTheStoreIsRefusedAtStart() throws {
        let fixture = try SandboxFixture("outside")
        fixture.spec.storeEntry = fixture.root
        #expect(throws: SandboxError.launchFailed(plugin: fixture.pluginID, reason: "invalid sandbox spec: storeEntry \(fixture.root) is not inside \(fixture.root)/kos/plugins/store")) {
            try fixture.start()
        }
        let status = try #require(try SupervisorStatus.read(fixture.layout))
        #expect(status.exit?.reason == "StartFailed")
    }

    @Test func withoutItsOwnUserASandboxIsRefusedUnlessWeakerIsolationIsAllowed() throws {
        let fixture = try SandboxFixture("rootuser")
        fixture.spec.identity = nil
        #expect {
            try fixture.start()
        } throws: { error in
            "\(error)".contains("this host cannot enforce identity (runs as host root (uid 0) without capabilities")
        }
        #expect(try SupervisorStatus.read(fixture.layout)?.exit?.reason == "IsolationNotEnforced")

        fixture.spec.allowWeakerIsolation = true
        try fixture.start()
        #expect(try fixture.command("echo")["uid"] == 0)
        #expect(fixture.log.contains("WEAKER ISOLATION (allowed by the spec): identity is not enforced"))
    }

    /// The harness reads the config kaipm renders (KaipmCore's canonical YAML) without PyYAML.
    @Test func theHarnessReadsTheConfigKaipmRenders() throws {
        let config = ConfigValue.map([
            "greeting": .string("Hi: \"there\"\n"), "count": .int(3), "ratio": .number("0.25"), "on": .bool(true), "none": .null,
            "nested": .map(["deeper": .map(["x": .list([.int(1), .string("two"), .map(["k": .bool(false)])])]), "empty": .map([:])]),
            "list": .list([.string("a"), .string("b")]), "no": .string("yes"), "emptyList": .list([]),
        ])
        let fixture = try SandboxFixture("config", config: config.renderYAML())
        try fixture.start()
        let seen = try #require(try fixture.command("echo")["config"])
        #expect(seen == Self.json(config))
    }

    static func json(_ value: ConfigValue) -> JSON {
        switch value {
        case .null: return .null
        case let .bool(flag): return .bool(flag)
        case let .int(number): return .int(number)
        case let .number(text): return .number(text)
        case let .string(text): return .string(text)
        case let .list(items): return .array(items.map(json))
        case let .map(map): return .object(map.sorted { $0.key < $1.key }.map { JSON.Member($0.key, json($0.value)) })
        }
    }
}
