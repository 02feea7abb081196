import KaipmSandbox
import Testing

/// Which filesystem grants a sandbox may have, judged on canonical paths.
@Suite("Grant policy")
struct GrantPolicyTests {
    /// A host where /srv/link → /proc/self, /srv/up is /srv/maps/../.., and the root is /var/lib/kaipm.
    static let host: [String: String] = [
        "/srv/maps": "/srv/maps", "/srv/cache": "/srv/cache", "/usr/share/zoneinfo": "/usr/share/zoneinfo",
        "/srv/link": "/proc/self", "/srv/maps/../..": "/", "/proc": "/proc", "/proc/1/root": "/proc/1/root",
        "/sys/fs/cgroup": "/sys/fs/cgroup", "/var/lib/kaipm/kos": "/var/lib/kaipm/kos", "/var/lib/kaipm": "/var/lib/kaipm",
        "/var/lib/kaipm/kos/db/plugins.sqlite": "/var/lib/kaipm/kos/db/plugins.sqlite",
        "/var/lib/kaipm/kos/data/notes": "/var/lib/kaipm/kos/data/notes", "/var/lib/kaipm/kos/plugins/store": "/var/lib/kaipm/kos/plugins/store",
        "/var": "/var", "/run/dbus": "/run/dbus", "/data": "/data", "/tmp/x": "/tmp/x", "/usr": "/usr", "/dev/sda": "/dev/sda",
        "/srv/kaipm-alias": "/var/lib/kaipm/kos/run",
    ]

    static let policy = GrantPolicy(pluginID: "weather", root: "/var/lib/kaipm") { host[$0] }

    struct Refusal: Sendable, CustomTestStringConvertible {
        var path: String
        var reason: String
        var testDescription: String { path }
    }

    static let refusals: [Refusal] = [
        Refusal(path: "/proc/1/root", reason: "sandboxes never see /proc"),
        Refusal(path: "/srv/link", reason: "sandboxes never see /proc"),
        Refusal(path: "/sys/fs/cgroup", reason: "sandboxes never see /sys"),
        Refusal(path: "/dev/sda", reason: "sandboxes never see /dev"),
        Refusal(path: "/run/dbus", reason: "sandboxes never see /run"),
        Refusal(path: "/srv/maps/../..", reason: "it contains /proc, which sandboxes never see"),
        Refusal(path: "/var/lib/kaipm/kos/db/plugins.sqlite", reason: "sandboxes never see /var/lib/kaipm/kos"),
        Refusal(path: "/var/lib/kaipm/kos/data/notes", reason: "sandboxes never see /var/lib/kaipm/kos"),
        Refusal(path: "/var/lib/kaipm/kos/plugins/store", reason: "sandboxes never see /var/lib/kaipm/kos"),
        Refusal(path: "/srv/kaipm-alias", reason: "sandboxes never see /var/lib/kaipm/kos"),
        Refusal(path: "/var", reason: "it contains /var/lib/kaipm/kos, which sandboxes never see"),
        Refusal(path: "/usr", reason: "it would replace the sandbox's read-only /usr; grant a folder inside it"),
        Refusal(path: "/data", reason: "the sandbox mounts its own /data there"),
        Refusal(path: "/tmp/x", reason: "the sandbox mounts its own /tmp there"),
        Refusal(path: "srv/maps", reason: "it is not an absolute path"),
        Refusal(path: "/srv/missing", reason: "it does not exist on this host"),
    ]

    @Test(arguments: refusals)
    func refuses(_ refusal: Refusal) {
        #expect {
            _ = try Self.policy.check([FilesystemGrant(path: refusal.path, mode: .readOnly)])
        } throws: { error in
            guard case let .grantRefused(plugin, _, reason) = error as? SandboxError else { return false }
            return plugin == "weather" && reason == refusal.reason
        }
    }

    @Test func acceptsOrdinaryFoldersParentsFirst() throws {
        let checked = try Self.policy.check([
            FilesystemGrant(path: "/usr/share/zoneinfo", mode: .readOnly),
            FilesystemGrant(path: "/srv/maps", mode: .readWrite),
        ])
        #expect(checked == [CheckedGrant(path: "/srv/maps", mode: .readWrite), CheckedGrant(path: "/usr/share/zoneinfo", mode: .readOnly)])
    }

    @Test func refusesTheSamePathTwice() {
        #expect(throws: SandboxError.grantRefused(plugin: "weather", path: "/srv/maps", reason: "it is granted twice; keep one entry")) {
            try Self.policy.check([FilesystemGrant(path: "/srv/maps", mode: .readOnly), FilesystemGrant(path: "/srv/maps", mode: .readWrite)])
        }
    }

    @Test func theErrorNamesThePathAsWrittenAndAsResolved() {
        let error = SandboxError.grantRefused(plugin: "weather", path: "/srv/link (/proc/self)", reason: "sandboxes never see /proc")
        #expect(throws: error) { try Self.policy.check([FilesystemGrant(path: "/srv/link", mode: .readOnly)]) }
        #expect(error.description == "plugin 'weather': filesystem grant /srv/link (/proc/self) refused: sandboxes never see /proc; remove it from the plugin's grants")
    }
}
