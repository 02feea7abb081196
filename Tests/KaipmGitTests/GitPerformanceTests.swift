import Foundation
import KaipmCore
import Testing

@testable import KaipmGit

/// The shape of a real reconcile: 1,000 plugin directories with two small YAML files each,
/// listed and read in full. Guards against per-call costs creeping up (re-walking the commit,
/// re-parsing the big `plugins` tree for every read), not a micro-benchmark: the bound is loose.
@Suite struct GitPerformanceTests {
    @Test(arguments: [false, true])
    func readsTwoThousandBlobsQuickly(packed: Bool) throws {
        let fx = try GitFixture()
        try fx.initRepository("repo")
        for i in 0..<1000 {
            let name = String(format: "plugin-%04d", i)
            try fx.write("repo/plugins/\(name)/plugin.yaml", "name: \(name)\nversion: 1.0.\(i)\n")
            try fx.write("repo/plugins/\(name)/config.yaml", "replicas: \(i % 7)\n")
        }
        try fx.commitAll("repo", "A thousand plugins")
        if packed { try fx.git("gc", "-q", "--aggressive", in: "repo") }

        let repo = try GitRepository(path: fx.path("repo"))
        let clock = ContinuousClock()
        var bytes = 0
        var listed = 0
        let elapsed = try clock.measure {
            let tree = try repo.tree(at: repo.resolve("HEAD"), path: "")
            let entries = try tree.entries(under: "plugins")
            listed = entries.count
            for entry in entries {
                bytes += try tree.contents(of: "plugins/" + entry.path).count
                _ = try tree.identity(of: "plugins/" + entry.path)
            }
        }
        #expect(listed == 2000)
        #expect(bytes > 0)
        print("KaipmGit: listed and read \(listed) blobs (\(bytes) bytes, packed: \(packed)) in \(elapsed)")
        #expect(elapsed < .seconds(5))
    }
}
