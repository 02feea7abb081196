/// How this host lays out its top-level system folders, which the sandbox mirrors around `/usr`.
///
/// On a merged-/usr system (Debian 12) `/lib`, `/lib64` and `/bin` are symlinks into `/usr`, and
/// the sandbox gets the same symlinks; where they are real folders they are bound read-only.
public struct HostSystemLayout: Sendable, Equatable {
    /// One top-level folder: a symlink to recreate, or a folder to bind read-only.
    public enum Entry: Sendable, Equatable {
        case symlink(path: String, target: String)
        case directory(path: String)
    }

    public static let candidates = ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"]

    public var entries: [Entry]

    public init(entries: [Entry]) {
        self.entries = entries
    }

    /// Merged /usr, as on Debian 12.
    public static let mergedUsr = HostSystemLayout(entries: [
        .symlink(path: "/bin", target: "usr/bin"), .symlink(path: "/sbin", target: "usr/sbin"),
        .symlink(path: "/lib", target: "usr/lib"), .symlink(path: "/lib64", target: "usr/lib64"),
    ])

    /// Reads the host's top-level folders.
    public static func detect() -> HostSystemLayout {
        var entries = [Entry]()
        for path in candidates {
            if let target = Posix.symlinkTarget(path) {
                entries.append(.symlink(path: path, target: target))
            } else if Posix.isDirectory(path) {
                entries.append(.directory(path: path))
            }
        }
        return HostSystemLayout(entries: entries)
    }
}
