import Foundation
import Testing

/// `kaipm doctor`, the real binary, on this host (root, bubblewrap, cgroup v1).
@Suite("kaipm doctor")
struct DoctorTests {
    static let features = ["bubblewrap", "supervisor", "python", "namespace.user", "namespace.pid", "namespace.net",
                           "namespace.ipc", "namespace.uts", "namespace.cgroup", "seccomp", "identity",
                           "quota.memory", "quota.cpu", "quota.pids", "rlimits"]

    @Test("text: every feature of issue #3 is reported and enforceable here; exit 0")
    func text() throws {
        let repo = try TestRepo()
        let result = try repo.kaipm(["doctor", "--root", repo.hostRoot], plain: true)
        #expect(result.status == 0, "\(result)")
        for feature in Self.features {
            #expect(result.stdout.contains("ok    \(feature) "), "\(feature) is reported enforced: \(result.stdout)")
        }
        #expect(result.stdout.contains("/usr/bin/bwrap"))
        #expect(result.stdout.contains("cgroup v1"), "this host's quotas come from cgroup v1")
        #expect(result.stdout.contains("Every isolation feature is enforceable"))
    }

    @Test("json: root, enforceable and one object per feature with feature, enforced, detail, fix")
    func json() throws {
        let repo = try TestRepo()
        let result = try repo.kaipm(["doctor", "--root", repo.hostRoot, "--format", "json"], plain: true)
        #expect(result.status == 0, "\(result)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["root"] as? String == repo.hostRoot)
        #expect(object["enforceable"] as? Bool == true)
        let features = try #require(object["features"] as? [[String: Any]])
        #expect(features.compactMap { $0["feature"] as? String } == Self.features)
        for feature in features {
            #expect(feature["enforced"] as? Bool == true, "\(feature)")
            #expect(feature["detail"] is String, "\(feature)")
            #expect(feature["fix"] is NSNull, "an enforced feature has no fix: \(feature)")
        }
    }

    @Test("a missing supervisor is reported with its fix and exit 1")
    func missingSupervisor() throws {
        let repo = try TestRepo()
        let result = try repo.kaipm(["doctor", "--format", "json"], env: ["KAIPM_SUPERVISOR": repo.base + "/nowhere"], plain: true)
        #expect(result.status == 1, "\(result)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["enforceable"] as? Bool == false)
        let features = try #require(object["features"] as? [[String: Any]])
        let supervisor = try #require(features.first { $0["feature"] as? String == "supervisor" })
        #expect(supervisor["enforced"] as? Bool == false)
        #expect((supervisor["fix"] as? String)?.contains("KAIPM_SUPERVISOR") == true)
        #expect(features.filter { $0["enforced"] as? Bool == false }.count == 1)
    }
}
