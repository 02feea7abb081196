import KaipmSandbox
import Testing

/// The bubblewrap argv, read without starting anything.
@Suite("Bubblewrap command")
struct BubblewrapCommandTests {
    static let spec = SandboxSpec(pluginID: "weather", root: "/", storeEntry: "/kos/plugins/store/ab12", dataDir: "/kos/data/weather",
                                  configFile: "/kos/config/plugins/weather.config.yaml", tmpBytes: 8 << 20)

    /// The option pairs (`--bind SRC DEST` as one entry) of an argv, for order-free assertions.
    static func options(_ arguments: [String]) -> [String] {
        let arity = ["--bind": 2, "--ro-bind": 2, "--ro-bind-data": 2, "--symlink": 2, "--setenv": 2, "--size": 1, "--tmpfs": 1,
                     "--dev": 1, "--hostname": 1, "--cap-drop": 1, "--seccomp": 1, "--chdir": 1, "--remount-ro": 1]
        var result = [String]()
        var index = 1
        while index < arguments.count, arguments[index] != "--" {
            let count = arity[arguments[index]] ?? 0
            result.append(arguments[index...(index + count)].joined(separator: " "))
            index += count + 1
        }
        return result
    }

    @Test func denyByDefault() {
        let arguments = BubblewrapCommand(spec: Self.spec, grants: []).arguments
        let options = Self.options(arguments)
        for expected in ["--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup",
                         "--disable-userns", "--die-with-parent", "--new-session", "--cap-drop ALL", "--clearenv",
                         "--ro-bind /usr /usr", "--symlink usr/lib /lib", "--dev /dev", "--size 8388608", "--tmpfs /tmp",
                         "--ro-bind /kos/plugins/store/ab12 /plugin", "--bind /kos/data/weather /data",
                         "--ro-bind-data 5 /config/config.yaml", "--ro-bind-data 6 /kaipm/harness.py",
                         "--remount-ro /", "--seccomp 4", "--hostname weather"] {
            #expect(options.contains(expected), "missing \(expected)")
        }
        #expect(!options.contains { $0.hasPrefix("--proc") || $0.hasPrefix("--share-net") || $0.contains("/sys") || $0.contains("/etc") })
        #expect(arguments.first == "/usr/bin/bwrap")
        #expect(Array(arguments.suffix(9)) == ["--", "/usr/bin/python3", "-I", "-S", "-B", "-X", "utf8", "/kaipm/harness.py", "--control-fd", "3"].suffix(9))
        // The tmpfs size applies to the tmpfs that follows it.
        #expect(arguments.firstIndex(of: "--size").map { arguments[$0 + 2] } == "--tmpfs")
    }

    @Test func theEnvironmentIsOnlyWhatTheSpecSays() {
        let options = Self.options(BubblewrapCommand(spec: Self.spec, grants: []).arguments)
        #expect(options.filter { $0.hasPrefix("--setenv") } == [
            "--setenv PATH /usr/bin:/bin", "--setenv HOME /data", "--setenv TMPDIR /tmp", "--setenv LANG C.UTF-8",
            "--setenv KAI_PLUGIN_ID weather", "--setenv KAI_PLUGIN_DATA /data", "--setenv KAI_PLUGIN_CONFIG /config/config.yaml",
        ])
    }

    @Test func theNetworkIsSharedOnlyWithAGrant() {
        var spec = Self.spec
        #expect(BubblewrapCommand(spec: spec, grants: []).arguments.contains("--unshare-net"))
        spec.grants.network = true
        let arguments = BubblewrapCommand(spec: spec, grants: []).arguments
        #expect(!arguments.contains("--unshare-net"))
        #expect(arguments.contains("--unshare-user") && arguments.contains("--unshare-pid"))
    }

    @Test func grantsAreBoundAtTheirPathsBeforeTheRootIsMadeReadOnly() {
        let grants = [CheckedGrant(path: "/srv/maps", mode: .readOnly), CheckedGrant(path: "/srv/cache", mode: .readWrite)]
        let arguments = BubblewrapCommand(spec: Self.spec, grants: grants).arguments
        let options = Self.options(arguments)
        let readOnly = options.firstIndex(of: "--ro-bind /srv/maps /srv/maps")
        let readWrite = options.firstIndex(of: "--bind /srv/cache /srv/cache")
        let remount = options.firstIndex(of: "--remount-ro /")
        #expect(readOnly != nil && readWrite != nil && remount != nil)
        #expect(readOnly! < remount! && readWrite! < remount!)
    }

    @Test func noConfigNoSeccompDescriptorsLeaveTheirOptionsOut() {
        var spec = Self.spec
        spec.configFile = nil
        let arguments = BubblewrapCommand(spec: spec, grants: [], descriptors: .init(control: 3, seccomp: nil, config: nil, harness: 6)).arguments
        #expect(!arguments.contains("--seccomp"))
        #expect(!arguments.contains("/config/config.yaml"))
        #expect(arguments.contains("KAI_PLUGIN_CONFIG"))
    }

    @Test func hostLayoutEntriesBecomeSymlinksOrReadOnlyBinds() {
        let system = HostSystemLayout(entries: [.symlink(path: "/lib64", target: "usr/lib64"), .directory(path: "/lib32")])
        let options = Self.options(BubblewrapCommand(spec: Self.spec, grants: [], system: system).arguments)
        #expect(options.contains("--symlink usr/lib64 /lib64"))
        #expect(options.contains("--ro-bind /lib32 /lib32"))
        #expect(!options.contains("--symlink usr/lib /lib"))
    }
}
