/// What a sandbox may reach beyond its own folders: host paths, and the network.
public struct SandboxGrants: Sendable, Equatable {
    public var filesystem: [FilesystemGrant]
    /// All-or-nothing for now: true shares the host's network namespace.
    public var network: Bool

    public init(filesystem: [FilesystemGrant] = [], network: Bool = false) {
        self.filesystem = filesystem
        self.network = network
    }
}

/// A host path bound into the sandbox at the same path.
public struct FilesystemGrant: Sendable, Equatable {
    public enum Mode: String, Sendable, Equatable {
        case readOnly = "ro"
        case readWrite = "rw"
    }

    public var path: String
    public var mode: Mode

    public init(path: String, mode: Mode) {
        self.path = path
        self.mode = mode
    }
}
