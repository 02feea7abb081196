/// The command line and environment of a plugin that runs without bubblewrap (`sandbox: false`).
///
/// Pure, like `BubblewrapCommand`: the same Python harness, started directly with the store entry
/// and data folder at their real paths. What bubblewrap would otherwise give is not there (no
/// namespaces: the plugin shares the host's file system, network and processes); what
/// `SandboxProcess.launch` gives still holds (rlimits, cgroups, its own uid, this cleared
/// environment, its data folder as cwd, a new session, no_new_privs, the seccomp filter).
public struct UnsandboxedCommand: Sendable, Equatable {
    /// The descriptors the supervisor hands to the harness, by number in the child.
    public struct Descriptors: Sendable, Equatable {
        /// The harness's end of the control channel (a socketpair).
        public var control: Int32
        /// The harness's source (a read-only memfd), run as `/proc/self/fd/N`; the harness closes it.
        public var harness: Int32
        /// The config's bytes (a read-only memfd), read as `/proc/self/fd/N`; nil when there is none.
        public var config: Int32?

        public init(control: Int32 = 3, harness: Int32 = 4, config: Int32? = 5) {
            self.control = control
            self.harness = harness
            self.config = config
        }
    }

    /// The full argv, the Python first.
    public let arguments: [String]
    /// The whole environment (`NAME=value`): the variables the bubblewrap command sets, with the
    /// real data folder and the config's descriptor path for its `/data` and `/config/config.yaml`.
    public let environment: [String]
    /// Where the harness reads the config (`load`'s `config`), or nil.
    public let configPath: String?

    public init(spec: SandboxSpec, descriptors: Descriptors = Descriptors()) {
        let config = spec.configFile == nil ? nil : descriptors.config.map { "/proc/self/fd/\($0)" }
        configPath = config
        arguments = [spec.python, "-I", "-S", "-B", "-X", "utf8", "/proc/self/fd/\(descriptors.harness)",
                     "--control-fd", String(descriptors.control),
                     "--plugin-dir", spec.storeEntry, "--data-dir", spec.dataDir]
        environment = BubblewrapCommand.environment(spec: spec).map { name, value in
            switch name {
            case "HOME", "KAI_PLUGIN_DATA": return "\(name)=\(spec.dataDir)"
            case "KAI_PLUGIN_CONFIG": return "\(name)=\(config ?? "")"
            default: return "\(name)=\(value)"
            }
        }
    }
}
