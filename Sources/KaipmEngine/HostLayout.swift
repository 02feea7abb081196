import Foundation

/// Where kaipm keeps a host's state under `--root` (DESIGN.md's host layout).
public struct HostLayout: Sendable {
    /// The root everything lives under (`/` on a real host).
    public let root: String

    public init(root: String) {
        var root = root
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        self.root = root
    }

    private func under(_ path: String) -> String { root == "/" ? "/" + path : root + "/" + path }

    /// `<root>/kos/db/plugins.sqlite`.
    public var registry: String { under("kos/db/plugins.sqlite") }
    /// `<root>/kos/config/plugins`.
    public var configDir: String { under("kos/config/plugins") }
    /// `<root>/kos/plugins/store`.
    public var store: String { under("kos/plugins/store") }
    /// `<root>/kos/data`.
    public var dataDir: String { under("kos/data") }
    /// `<root>/kos/log/plugins`.
    public var logDir: String { under("kos/log/plugins") }
    /// `<root>/kos/run`.
    public var runDir: String { under("kos/run") }
    /// `<root>/kos/etc`: host-local trust roots, never from git.
    public var etcDir: String { under("kos/etc") }
    /// The reconcile lock file.
    public var lockFile: String { runDir + "/kaipm.lock" }

    /// The rendered config of one plugin.
    public func configFile(_ id: String) -> String { configDir + "/\(id).config.yaml" }
    /// One plugin's private writable data.
    public func data(_ id: String) -> String { dataDir + "/\(id)" }

    /// Creates the folders (not the files) of the layout.
    public func create() throws {
        for dir in [configDir, store, dataDir, logDir, runDir, etcDir, (registry as NSString).deletingLastPathComponent] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
    }
}
