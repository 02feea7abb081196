import KaipmCore

/// What each plugin of a converged host was resolved from, named by git object ids, so that a
/// reconcile of a new revision re-reads only the plugins whose inputs changed.
///
/// A plugin's resolution on a host is a function of its entry (`plugins/<id>.yaml`), its config
/// file (`config/plugins/<id>.config.yaml`), its `path:` source folder, the fleet settings and the
/// host's file, and of whether the plugins it depends on resolve and are active. The first three
/// are recorded per plugin as blob and tree ids; the fleet settings, the host files and any other
/// name in the two plugin folders make up `global`. When a new revision has the same `global`,
/// a plugin whose ids did not change and none of whose dependencies (transitively) changed
/// resolves exactly as before, and the host, which converged on it and was not touched since (the
/// observed fingerprint says so), needs nothing done for it. Only the others are parsed and
/// planned; see `Reconciler.incrementalPlan`.
///
/// Stored as text in the registry's `converged_state.inputs`: a header line
/// `kaipm-inputs 1\t<scope>\t<global>`, then one line per plugin entry:
/// `<id>\t<entry blob>\t<config blob or ->\t<source path>\t<source id>\t<s|->\t<a|->\t<deps, comma-separated>`.
struct ResolutionInputs: Sendable, Equatable {
    struct Plugin: Sendable, Equatable {
        /// The blob id of `plugins/<id>.yaml`.
        var entry: String
        /// The blob id of `config/plugins/<id>.config.yaml`, or `-` when there is none.
        var config: String
        /// The folder of a `path:` source in the source tree, or empty.
        var sourcePath: String
        /// The git tree id of `sourcePath`; `pinned` for a `dir:` source with a checksum (its
        /// bytes are checked against the pin, whose entry the observed state vouches for);
        /// `volatile` for anything that cannot be identified cheaply (always re-resolved); `-` when
        /// the plugin was not resolved on this host.
        var source: String
        /// Resolved on this host: selected by it and not blocked.
        var resolved: Bool
        var active: Bool
        var dependsOn: [String]
    }

    /// `<resolution version>|<desired-state path>|<host>`: inputs of another scope say nothing.
    var scope: String
    /// The ids of everything outside the per-plugin files that the desired state is read from.
    var global: String
    var plugins: [String: Plugin]

    static let magic = "kaipm-inputs 1"

    func encode() -> String {
        var out = "\(Self.magic)\t\(scope)\t\(global)\n"
        for id in plugins.keys.sorted() {
            guard let p = plugins[id] else { continue }
            out += "\(id)\t\(p.entry)\t\(p.config)\t\(p.sourcePath)\t\(p.source)\t\(p.resolved ? "s" : "-")\t"
            out += "\(p.active ? "a" : "-")\t\(p.dependsOn.joined(separator: ","))\n"
        }
        return out
    }

    /// The inputs in `text`, or nil when it is not a well-formed record (then nothing is reused).
    static func decode(_ text: String) -> ResolutionInputs? {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true)[...]
        guard let header = lines.popFirst() else { return nil }
        let head = header.split(separator: "\t", omittingEmptySubsequences: false)
        guard head.count == 3, head[0] == magic else { return nil }
        var plugins: [String: Plugin] = [:]
        plugins.reserveCapacity(lines.count)
        for line in lines {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard f.count == 8, !f[0].isEmpty, f[5] == "s" || f[5] == "-", f[6] == "a" || f[6] == "-" else { return nil }
            plugins[String(f[0])] = Plugin(entry: String(f[1]), config: String(f[2]), sourcePath: String(f[3]),
                                           source: String(f[4]), resolved: f[5] == "s", active: f[6] == "a",
                                           dependsOn: f[7].split(separator: ",").map(String.init))
        }
        return ResolutionInputs(scope: String(head[1]), global: String(head[2]), plugins: plugins)
    }
}

/// The per-file ids of one desired-state revision, read from git tree objects without parsing.
struct DesiredListing: Sendable {
    /// Blob ids of `plugins/<id>.yaml` by id.
    var entries: [String: String] = [:]
    /// Blob ids of `config/plugins/<id>.config.yaml` by id.
    var configs: [String: String] = [:]
    /// See `ResolutionInputs.global`.
    var global: String

    /// Nil when the tree cannot name its objects (a plain folder).
    static func read(_ tree: any FileTree) -> DesiredListing? {
        func identity(_ path: String) -> String? {
            tree.exists(path) ? (try? tree.identity(of: path)) ?? nil : "-"
        }
        guard let kos = identity("kos.config.yaml"), let hosts = identity("hosts") else { return nil }
        var listing = DesiredListing(global: "kos=\(kos);hosts=\(hosts)")
        var others: [String] = []
        func scan(_ folder: String, suffix: String, into map: inout [String: String]) -> Bool {
            guard tree.exists(folder) else { return true }
            guard let entries = try? tree.entries(under: folder) else { return false }
            for entry in entries {
                guard let id = entry.id else { return false }
                if entry.path.hasSuffix(suffix), !entry.path.contains("/"), entry.kind == .file || entry.kind == .executable {
                    map[String(entry.path.dropLast(suffix.count))] = id
                } else {
                    // Anything else there may make a warning: part of the global identity.
                    others.append("\(folder)/\(entry.path)=\(entry.kind.rawValue):\(id)")
                }
            }
            return true
        }
        guard scan("plugins", suffix: ".yaml", into: &listing.entries),
            scan("config/plugins", suffix: ".config.yaml", into: &listing.configs)
        else { return nil }
        if !others.isEmpty { listing.global += ";" + others.joined(separator: ";") }
        return listing
    }
}
