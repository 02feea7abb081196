import KaipmCore
import KaipmGit

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
    /// Read on every reconcile of a new revision: split on bytes, a String made per field only.
    static func decode(_ text: String) -> ResolutionInputs? {
        let tab = UInt8(ascii: "\t")
        var lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)[...]
        guard let header = lines.popFirst() else { return nil }
        let head = header.split(separator: tab, omittingEmptySubsequences: false)
        guard head.count == 3, String(Substring(head[0])) == magic else { return nil }
        var plugins: [String: Plugin] = [:]
        plugins.reserveCapacity(lines.count)
        for line in lines {
            let f = line.split(separator: tab, omittingEmptySubsequences: false)
            guard f.count == 8, !f[0].isEmpty else { return nil }
            let resolved = String(Substring(f[5])), active = String(Substring(f[6]))
            guard resolved == "s" || resolved == "-", active == "a" || active == "-" else { return nil }
            plugins[String(Substring(f[0]))] = Plugin(
                entry: String(Substring(f[1])), config: String(Substring(f[2])), sourcePath: String(Substring(f[3])),
                source: String(Substring(f[4])), resolved: resolved == "s", active: active == "a",
                dependsOn: f[7].split(separator: UInt8(ascii: ",")).map { String(Substring($0)) })
        }
        return ResolutionInputs(scope: String(Substring(head[1])), global: String(Substring(head[2])), plugins: plugins)
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
        guard let git = tree as? GitTree else { return nil }
        func identity(_ path: String) -> String? {
            git.exists(path) ? (try? git.identity(of: path)) ?? nil : "-"
        }
        guard let kos = identity("kos.config.yaml"), let hosts = identity("hosts") else { return nil }
        var listing = DesiredListing(global: "kos=\(kos);hosts=\(hosts)")
        var others: [String] = []
        func scan(_ folder: String, suffix: String, into map: inout [String: String]) -> Bool {
            guard git.exists(folder) else { return true }
            guard let children = try? git.children(of: folder) else { return false }
            for child in children {
                if child.name.hasSuffix(suffix), child.kind == .file || child.kind == .executable {
                    map[String(child.name.dropLast(suffix.count))] = child.id
                } else {
                    // Anything else there may make a warning: part of the global identity.
                    others.append("\(folder)/\(child.name)=\(child.kind?.rawValue ?? "folder"):\(child.id)")
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

/// Git ids of `path:` source folders, read a parent folder at a time.
struct SourceIdentities {
    let tree: any FileTree
    private var folders: [String: [String: String]] = [:]

    init(tree: any FileTree) {
        self.tree = tree
    }

    /// The id of the folder at `path`, or nil when there is none.
    mutating func identity(of path: String) -> String? {
        guard let git = tree as? GitTree else { return (try? tree.identity(of: path)) ?? nil }
        let trimmed = path.split(separator: "/").joined(separator: "/")
        let slash = trimmed.lastIndex(of: "/")
        let parent = slash.map { String(trimmed[..<$0]) } ?? ""
        let name = slash.map { String(trimmed[trimmed.index(after: $0)...]) } ?? trimmed
        if folders[parent] == nil {
            var ids: [String: String] = [:]
            for child in (try? git.children(of: parent)) ?? [] where child.kind == nil { ids[child.name] = child.id }
            folders[parent] = ids
        }
        return folders[parent]?[name]
    }
}
