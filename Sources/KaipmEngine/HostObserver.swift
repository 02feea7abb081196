import Foundation
import KaipmCore
import KaipmRegistry
import KaipmStore

/// Reads what the host really has: registry rows, checked against the store and config files.
struct HostObserver {
    let layout: HostLayout
    let store: PluginStore
    /// The registry's sandbox records when kaipm manages sandboxes here; nil leaves sandboxes unobserved.
    var sandboxes: [String: SandboxRecord]? = nil

    /// Observes every registered plugin. `full` rehashes every store byte instead of trusting
    /// the stat cache.
    func observe(_ rows: [RegisteredPlugin], full: Bool) -> ObservedState {
        // Checking a store entry is mostly stat and readdir system calls; spreading the entries
        // over the cores roughly divides the wall time of a no-op reconcile's biggest phase.
        let observer = self
        let results = ParallelMap.map(rows, minimumPerWorker: 32) { row in observer.observe(row, full: full) }
        var state = ObservedState()
        for plugin in results { state.plugins[plugin.id] = plugin }
        return state
    }

    func observe(_ row: RegisteredPlugin, full: Bool) -> ObservedPlugin {
        var registryProblems: [String] = []
        if row.rowDigest != row.expectedDigest {
            registryProblems.append("the row was edited outside kaipm")
        }
        let hash = TreeHash(row.checksum)
        var storeProblems: [String] = []
        if let hash {
            if row.path != store.path(for: hash) {
                registryProblems.append("path \(row.path) is not the store entry of its checksum")
            }
            do {
                let report = try store.verify(hash, full: full)
                storeProblems = report.problems.map(\.description)
            } catch {
                storeProblems = ["cannot verify: \(error)"]
            }
        } else {
            registryProblems.append("checksum '\(row.checksum)' is not an h1: tree hash")
        }
        let dependsOn = Self.decodeIDs(row.dependsOn)
        var observed = ObservedPlugin(id: row.id, name: row.name, version: SemanticVersion(row.version), source: row.source,
                              treeHash: hash, isActive: row.isActive, dependsOn: dependsOn,
                              configJSON: row.configJSON, recordedConfigHash: row.configHash,
                              configFileHash: configFileHash(row.id), revision: row.revision,
                              storeProblems: storeProblems, registryProblems: registryProblems)
        if let sandboxes {
            observed.sandbox = SandboxObservation.observe(root: layout.root, plugin: row.id, record: sandboxes[row.id])
        }
        return observed
    }

    /// Reads the `depends_on` column, a JSON list of plugin ids (which never need escaping),
    /// without a JSONDecoder per row.
    static func decodeIDs(_ json: String) -> [String] {
        json.split(whereSeparator: { $0 == "[" || $0 == "]" || $0 == "," || $0 == "\"" || $0 == " " }).map(String.init)
    }

    /// SHA-256 of the rendered config file, or nil when it is missing.
    func configFileHash(_ id: String) -> String? {
        // Every no-op run reads every config file: plain open/read, no Foundation objects.
        let fd = open(layout.configFile(id), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return Hex.sha256(bytes)
    }
}
