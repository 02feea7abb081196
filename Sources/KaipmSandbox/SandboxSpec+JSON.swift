/// The spec file format (`<root>/kos/run/<id>.spec.json`), which the supervisor is started with.
extension SandboxSpec {
    public static let formatVersion = 1

    public var json: JSON {
        .object([
            "formatVersion": .int(Self.formatVersion),
            "plugin": .string(pluginID),
            "version": version.map { .string($0) },
            "configHash": configHash.map { .string($0) },
            "root": .string(root),
            "storeEntry": .string(storeEntry),
            "dataDir": .string(dataDir),
            "configFile": configFile.map { .string($0) },
            "entryPoints": .object([
                "main": .string(entryPoints.main),
                "hooks": .object(entryPoints.hooks.sorted { $0.key < $1.key }.map { JSON.Member($0.key, .string($0.value)) }),
            ]),
            "grants": .object([
                "filesystem": .array(grants.filesystem.map { .object(["path": .string($0.path), "mode": .string($0.mode.rawValue)]) }),
                "network": .bool(grants.network),
            ]),
            "resources": .object([
                "memoryBytes": .int(resources.memoryBytes), "cpu": .double(resources.cpu), "pids": .int(resources.pids),
                "startupCpu": resources.startupCPU.map { .double($0) },
            ]),
            "limits": .object([
                "addressSpaceBytes": .int(limits.addressSpaceBytes), "cpuSeconds": .int(limits.cpuSeconds),
                "fileSizeBytes": .int(limits.fileSizeBytes), "openFiles": .int(limits.openFiles),
            ]),
            "identity": identity.map { .object(["uid": .int($0.uid), "gid": .int($0.gid)]) },
            "timeouts": .object([
                "loadMs": .int(timeouts.loadMilliseconds), "unloadMs": .int(timeouts.unloadMilliseconds),
                "requestMs": .int(timeouts.requestMilliseconds), "killGraceMs": .int(timeouts.killGraceMilliseconds),
            ]),
            "log": .object(["maxBytes": .int(log.maxBytes), "keep": .int(log.keep)]),
            "tmpBytes": .int(tmpBytes),
            "allowWeakerIsolation": .bool(allowWeakerIsolation),
            "bubblewrap": .string(bubblewrap),
            "python": .string(python),
            "sandboxed": .bool(sandboxed),
        ])
    }

    public init(json: JSON) throws(SandboxError) {
        let plugin = json["plugin"]?.stringValue ?? "?"
        func fail(_ field: String) -> SandboxError {
            .invalidSpec(plugin: plugin, reason: "the spec file's '\(field)' is missing or of the wrong type")
        }
        guard json["formatVersion"]?.intValue == Self.formatVersion else {
            throw .invalidSpec(plugin: plugin, reason: "spec formatVersion \(json["formatVersion"]?.text ?? "missing") is not \(Self.formatVersion); kaipm and kaipm-supervisor are from different builds")
        }
        guard let root = json["root"]?.stringValue else { throw fail("root") }
        guard let store = json["storeEntry"]?.stringValue else { throw fail("storeEntry") }
        guard let data = json["dataDir"]?.stringValue else { throw fail("dataDir") }
        guard let entry = json["entryPoints"], let main = entry["main"]?.stringValue else { throw fail("entryPoints.main") }
        var hooks = [String: String]()
        for member in entry["hooks"]?.objectValue ?? [] {
            guard let path = member.value.stringValue else { throw fail("entryPoints.hooks.\(member.key)") }
            hooks[member.key] = path
        }
        var filesystem = [FilesystemGrant]()
        for grant in json["grants"]?["filesystem"]?.arrayValue ?? [] {
            guard let path = grant["path"]?.stringValue, let mode = grant["mode"]?.stringValue.flatMap(FilesystemGrant.Mode.init) else {
                throw fail("grants.filesystem")
            }
            filesystem.append(FilesystemGrant(path: path, mode: mode))
        }
        guard let resources = json["resources"], let memory = resources["memoryBytes"]?.uint64Value,
              let cpu = resources["cpu"]?.doubleValue, let pids = resources["pids"]?.intValue else { throw fail("resources") }
        guard let limits = json["limits"], let space = limits["addressSpaceBytes"]?.uint64Value,
              let seconds = limits["cpuSeconds"]?.uint64Value, let size = limits["fileSizeBytes"]?.uint64Value,
              let files = limits["openFiles"]?.uint64Value else { throw fail("limits") }
        var identity: SandboxIdentity?
        if let value = json["identity"], value != .null {
            guard let uid = value["uid"]?.uint64Value, let gid = value["gid"]?.uint64Value,
                  uid < UInt64(UInt32.max), gid < UInt64(UInt32.max) else { throw fail("identity") }
            identity = SandboxIdentity(uid: UInt32(uid), gid: UInt32(gid))
        }
        let timeouts = json["timeouts"]
        let defaults = SandboxTimeouts()
        let log = json["log"]
        self.init(
            pluginID: plugin, root: root, storeEntry: store, dataDir: data, configFile: json["configFile"]?.stringValue,
            entryPoints: EntryPoints(main: main, hooks: hooks),
            grants: SandboxGrants(filesystem: filesystem, network: json["grants"]?["network"]?.boolValue ?? false),
            resources: SandboxResources(memoryBytes: memory, cpu: cpu, pids: pids, startupCPU: resources["startupCpu"]?.doubleValue),
            limits: ProcessLimits(addressSpaceBytes: space, cpuSeconds: seconds, fileSizeBytes: size, openFiles: files),
            identity: identity,
            timeouts: SandboxTimeouts(
                loadMilliseconds: timeouts?["loadMs"]?.intValue ?? defaults.loadMilliseconds,
                unloadMilliseconds: timeouts?["unloadMs"]?.intValue ?? defaults.unloadMilliseconds,
                requestMilliseconds: timeouts?["requestMs"]?.intValue ?? defaults.requestMilliseconds,
                killGraceMilliseconds: timeouts?["killGraceMs"]?.intValue ?? defaults.killGraceMilliseconds),
            log: LogPolicy(maxBytes: log?["maxBytes"]?.intValue ?? LogPolicy().maxBytes, keep: log?["keep"]?.intValue ?? LogPolicy().keep),
            tmpBytes: json["tmpBytes"]?.uint64Value ?? 16 << 20,
            allowWeakerIsolation: json["allowWeakerIsolation"]?.boolValue ?? false,
            version: json["version"]?.stringValue, configHash: json["configHash"]?.stringValue,
            bubblewrap: json["bubblewrap"]?.stringValue ?? "/usr/bin/bwrap",
            python: json["python"]?.stringValue ?? "/usr/bin/python3",
            sandboxed: json["sandboxed"]?.boolValue ?? true)
    }
}
