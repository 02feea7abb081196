/// Where a plugin's bytes come from.
///
/// `path` and `dir` are read now; `git` and `zip` are parsed so that the seam is in place
/// (`SourceResolver` in the engine), and are refused at resolve time until their fetchers land.
public enum PluginSource: Sendable, Hashable, Codable, CustomStringConvertible {
    /// A repository-relative folder, read from the same git revision as the desired state.
    case path(String)
    /// An absolute folder on the host; requires a checksum pin.
    case dir(String)
    /// A git repository at a tag or commit; requires a checksum pin.
    case git(url: String, ref: String?, commit: String?, subdir: String?)
    /// A zip archive at a URL or path; requires a checksum pin.
    case zip(url: String)

    public var description: String {
        switch self {
        case let .path(path): return "path:\(path)"
        case let .dir(dir): return "dir:\(dir)"
        case let .git(url, ref, commit, subdir):
            var text = "git:\(url)"
            if let ref { text += "@\(ref)" }
            if let commit { text += "#\(commit)" }
            if let subdir { text += "//\(subdir)" }
            return text
        case let .zip(url): return "zip:\(url)"
        }
    }

    /// The kind of source, as written in YAML.
    public var kind: String {
        switch self {
        case .path: return "path"
        case .dir: return "dir"
        case .git: return "git"
        case .zip: return "zip"
        }
    }

    /// Whether the bytes are pinned by the git revision itself, so no checksum is needed.
    public var isPinnedByRevision: Bool {
        if case .path = self { return true }
        return false
    }
}
