/// A filesystem grant after canonicalisation: the host path bubblewrap binds, at the same path.
public struct CheckedGrant: Sendable, Equatable {
    public var path: String
    public var mode: FilesystemGrant.Mode

    public init(path: String, mode: FilesystemGrant.Mode) {
        self.path = path
        self.mode = mode
    }
}

/// Decides which filesystem grants a sandbox may have.
///
/// A grant is canonicalised first (symlinks, `.` and `..` resolved), so `/srv/x/../../proc` or a
/// symlink to `/sys` is judged by what it really is. It is refused when it is, is inside, or
/// contains `/proc`, `/sys`, `/dev`, `/run` (the host's sockets) or `<root>/kos` (the registry, the
/// store, every plugin's data, config, sockets and logs), and when it would cover one of the
/// sandbox's own mount points. Bubblewrap resolves the path again when it binds it; a path swapped
/// for a symlink between the check and the bind is the remaining race, which the grant's owner
/// (an admin editing the host) would have to win against themselves.
public struct GrantPolicy: Sendable {
    /// Host paths no grant may reach, beside `<root>/kos`.
    public static let protectedHostPaths = ["/proc", "/sys", "/dev", "/run"]
    /// Where the sandbox mounts its own things; a grant may not land on or inside them.
    public static let sandboxMountPoints = ["/plugin", "/data", "/config", "/kaipm", "/tmp", "/dev", "/proc"]

    public let pluginID: String
    public let layout: SandboxLayout
    private let canonicalize: @Sendable (String) -> String?

    /// `canonicalize` defaults to realpath(3); tests pass a table.
    public init(pluginID: String, root: String, canonicalize: @escaping @Sendable (String) -> String? = { Posix.canonicalPath($0) }) {
        self.pluginID = pluginID
        self.layout = SandboxLayout(root: root, pluginID: pluginID)
        self.canonicalize = canonicalize
    }

    /// The grants as bubblewrap will bind them, or the first refusal.
    public func check(_ grants: [FilesystemGrant]) throws(SandboxError) -> [CheckedGrant] {
        var protected = GrantPolicy.protectedHostPaths + [layout.kos]
        // The root itself may sit behind a symlink (/var/lib/kaipm → /srv/kaipm).
        protected += protected.compactMap { canonicalize($0) }
        var checked = [CheckedGrant]()
        for grant in grants {
            guard grant.path.hasPrefix("/") else {
                throw .grantRefused(plugin: pluginID, path: grant.path, reason: "it is not an absolute path")
            }
            guard let path = canonicalize(grant.path) else {
                throw .grantRefused(plugin: pluginID, path: grant.path, reason: "it does not exist on this host")
            }
            let shown = path == grant.path ? path : "\(grant.path) (\(path))"
            for forbidden in protected {
                if Posix.isInside(path, forbidden) {
                    throw .grantRefused(plugin: pluginID, path: shown, reason: "sandboxes never see \(forbidden)")
                }
                if Posix.isInside(forbidden, path) {
                    throw .grantRefused(plugin: pluginID, path: shown, reason: "it contains \(forbidden), which sandboxes never see")
                }
            }
            if path == "/usr" {
                throw .grantRefused(plugin: pluginID, path: shown, reason: "it would replace the sandbox's read-only /usr; grant a folder inside it")
            }
            for mountPoint in GrantPolicy.sandboxMountPoints where Posix.isInside(path, mountPoint) {
                throw .grantRefused(plugin: pluginID, path: shown, reason: "the sandbox mounts its own \(mountPoint) there")
            }
            if checked.contains(where: { $0.path == path }) {
                throw .grantRefused(plugin: pluginID, path: shown, reason: "it is granted twice; keep one entry")
            }
            checked.append(CheckedGrant(path: path, mode: grant.mode))
        }
        // Bind parents before children, so that a read-only child inside a read-write parent stays read-only.
        return checked.sorted { left, right in
            let (leftDepth, rightDepth) = (left.path.split(separator: "/").count, right.path.split(separator: "/").count)
            return leftDepth != rightDepth ? leftDepth < rightDepth : left.path < right.path
        }
    }
}
