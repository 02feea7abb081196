import Foundation
import KaipmCore
import KaipmGit
import KaipmStore

/// Where the desired state is read from.
public enum DesiredSource: Sendable {
    /// A git repository at a revision: the object database only, never the work tree.
    case git(repo: String, rev: String, path: String, fetch: Bool)
    /// A plain directory (unpinned). `path:` plugin sources resolve against `sourceRoot`.
    case dir(path: String, sourceRoot: String)
}

/// The desired state of one revision, with the tree that `path:` plugin sources are read from.
public struct LoadedDesired: Sendable {
    public var state: DesiredState
    /// The commit id, or `unpinned:<digest of the folder>`.
    public var revision: String
    public var pinned: Bool
    /// The repository root at the same revision (or the source root of a `--dir` run).
    public var sourceTree: any FileTree
    /// An identity of everything the desired state and its `path:` sources are made of, when the
    /// source can give one cheaply (the commit's root tree id), for the resolution cache.
    public var identity: String?
    /// What was fetched, when `--fetch` was given.
    public var fetched: FetchResult?
}

/// A desired-state revision located but not yet parsed: enough to know its identity.
public struct DesiredSnapshot: Sendable {
    public var desiredTree: any FileTree
    /// How desired-state paths are shown in messages (`desired-state/`).
    public var prefix: String
    public var revision: String
    public var pinned: Bool
    public var sourceTree: any FileTree
    public var identity: String?
    public var fetched: FetchResult?

    /// Parses the desired state (of only the plugins in `only`, when given: see `DesiredState.load`).
    public func parse(only: Set<String>? = nil) throws(EngineError) -> LoadedDesired {
        let state: DesiredState
        do {
            state = try DesiredState.load(from: desiredTree, prefix: prefix, only: only)
        } catch {
            throw EngineError.invalidDesiredState(error)
        }
        return LoadedDesired(state: state, revision: revision, pinned: pinned, sourceTree: sourceTree,
                             identity: identity, fetched: fetched)
    }
}

/// Reads desired state from git (libgit2) or a folder.
public enum DesiredLoader {
    /// Locates and parses.
    public static func load(_ source: DesiredSource) throws(EngineError) -> LoadedDesired {
        try locate(source).parse()
    }

    /// Resolves the revision (fetching first when asked) without parsing anything.
    public static func locate(_ source: DesiredSource) throws(EngineError) -> DesiredSnapshot {
        switch source {
        case let .git(repoPath, rev, path, fetch):
            do {
                let repo = try GitRepository(path: repoPath)
                let fetched = fetch ? try repo.fetch() : nil
                let commit = try repo.resolve(rev)
                let root = try repo.tree(at: commit, path: "")
                let cleaned = path.split(separator: "/").joined(separator: "/")
                let desiredTree = try repo.tree(at: commit, path: cleaned)
                return DesiredSnapshot(desiredTree: desiredTree, prefix: cleaned.isEmpty ? "" : cleaned + "/",
                                       revision: commit.id, pinned: true, sourceTree: root,
                                       identity: "git:\(commit.treeID):\(cleaned)", fetched: fetched)
            } catch let error as GitError {
                if case .pathNotFound = error { throw EngineError.desiredStateMissing(message: error.description) }
                throw EngineError.git(error.description)
            } catch {
                throw EngineError.git("\(error)")
            }
        case let .dir(path, sourceRoot):
            guard FileManager.default.fileExists(atPath: path) else {
                throw EngineError.io(operation: "read the desired-state folder", path: path,
                                     reason: "it does not exist; check --dir")
            }
            let tree = DirectoryTree(root: path)
            let digest: String
            do {
                digest = try TreeHasher.hash(tree, limits: TreeLimits()).hash.hex
            } catch {
                throw EngineError.io(operation: "read the desired-state folder", path: path, reason: "\(error)")
            }
            return DesiredSnapshot(desiredTree: tree, prefix: path.hasSuffix("/") ? path : path + "/",
                                   revision: "unpinned:\(digest.prefix(16))", pinned: false,
                                   sourceTree: DirectoryTree(root: sourceRoot), identity: nil, fetched: nil)
        }
    }
}
