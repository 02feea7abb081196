/// Where a plugin's sandbox keeps its files under the kaipm root (DESIGN.md's host layout).
public struct SandboxLayout: Sendable, Equatable {
    /// The kaipm root (`/` on a real host).
    public let root: String
    public let pluginID: String

    public init(root: String, pluginID: String) {
        var root = root
        while root.count > 1 && root.hasSuffix("/") { root.removeLast() }
        self.root = root
        self.pluginID = pluginID
    }

    public init(spec: SandboxSpec) {
        self.init(root: spec.root, pluginID: spec.pluginID)
    }

    private func under(_ path: String) -> String { root == "/" ? "/" + path : root + "/" + path }

    /// `<root>/kos`: everything kaipm owns; a grant may reach none of it.
    public var kos: String { under("kos") }
    /// `<root>/kos/plugins/store`: store entries live below it.
    public var store: String { under("kos/plugins/store") }
    /// `<root>/kos/data/<id>`: the only data folder this plugin's sandbox may get.
    public var dataDir: String { under("kos/data/\(pluginID)") }
    /// `<root>/kos/config/plugins`: rendered configs live in it.
    public var configDir: String { under("kos/config/plugins") }
    /// `<root>/kos/run`: sockets, status, spec and lock files.
    public var runDir: String { under("kos/run") }
    /// `<root>/kos/log/plugins`.
    public var logDir: String { under("kos/log/plugins") }
    /// The control socket the supervisor serves.
    public var socket: String { runDir + "/\(pluginID).sock" }
    /// How the sandbox is doing, or how it ended (`SupervisorStatus`).
    public var statusFile: String { runDir + "/\(pluginID).status.json" }
    /// The spec the supervisor was started with.
    public var specFile: String { runDir + "/\(pluginID).spec.json" }
    /// Held (flock) by the supervisor for its whole life: a second supervisor is refused, and a
    /// reader can tell a live supervisor from a stale status file.
    public var lockFile: String { runDir + "/\(pluginID).lock" }
    /// The console log.
    public var logFile: String { logDir + "/\(pluginID).log" }
}
