import CLibgit2
import Foundation
import KaipmCore

/// A commit a revision resolved to.
public struct GitCommit: Sendable, Hashable, CustomStringConvertible {
    /// The commit id, 40 lowercase hex digits.
    public var id: String
    /// The id of the commit's root tree, 40 lowercase hex digits.
    public var treeID: String
    /// The first paragraph of the message, on one line.
    public var summary: String
    /// The committer time, seconds since the Unix epoch.
    public var time: Int64

    public init(id: String, treeID: String, summary: String, time: Int64) {
        self.id = id
        self.treeID = treeID
        self.summary = summary
        self.time = time
    }

    /// The first 12 hex digits of the id, for messages.
    public var shortID: String { String(id.prefix(12)) }

    public var description: String { "\(shortID) \(summary)" }
}

/// What a fetch changed.
public struct FetchResult: Sendable, Hashable {
    /// One reference the fetch created or moved.
    public struct RefUpdate: Sendable, Hashable, CustomStringConvertible {
        /// The full local reference name, e.g. `refs/remotes/origin/main`.
        public var name: String
        /// The id it pointed at before, nil when the fetch created it.
        public var old: String?
        /// The id it points at now.
        public var new: String

        public init(name: String, old: String?, new: String) {
            self.name = name
            self.old = old
            self.new = new
        }

        public var description: String {
            "\(name): \(old.map { String($0.prefix(12)) } ?? "(new)") -> \(new.prefix(12))"
        }
    }

    /// The remote's name, e.g. `origin`.
    public var remote: String
    /// The URL fetched from.
    public var url: String
    /// The references that were created or moved, in the order libgit2 reported them.
    public var updatedRefs: [RefUpdate]
    /// Objects received from the remote (0 when nothing was new).
    public var receivedObjects: Int

    public init(remote: String, url: String, updatedRefs: [RefUpdate], receivedObjects: Int) {
        self.remote = remote
        self.url = url
        self.updatedRefs = updatedRefs
        self.receivedObjects = receivedObjects
    }

    /// Whether any reference moved.
    public var changed: Bool { !updatedRefs.isEmpty }
}

/// An open git repository (bare or with a work tree), read through libgit2.
///
/// Thread safety: libgit2 (built with threads, as Debian's is) lets a `git_repository` and the
/// objects read from it be used from any thread but not from two threads at once; its threading
/// documentation asks callers to serialise use of one repository. Every libgit2 call on this
/// repository — here and in the `GitTree`s made from it, which share the pointers — runs while
/// holding `lock`, so concurrent callers are serialised and the class is safe to share: hence
/// `@unchecked Sendable`. The stored pointers themselves never change after `init`. When
/// libgit2 lacks thread support, all repositories share one process-wide lock instead.
public final class GitRepository: @unchecked Sendable, CustomStringConvertible {
    /// The work tree for a normal repository, the git directory for a bare one; no trailing `/`.
    public let path: String
    /// The git directory (`.../.git` or the bare repository itself); no trailing `/`.
    public let gitDirectory: String
    /// Whether the repository has no work tree.
    public let isBare: Bool

    /// Guards every libgit2 call on `repo`, `odb` and the objects read from them.
    let lock: NSLock
    let repo: OpaquePointer
    /// The object database, looked up once: blob sizes are read straight from object headers.
    let odb: OpaquePointer

    /// Opens the repository at `path` or the first one found above it. Works for bare
    /// repositories, work trees and their subdirectories. Never reads the work tree afterwards.
    public init(path: String) throws {
        _ = libgit2Initialization
        lock = libgit2IsThreadSafe ? NSLock() : processWideGitLock
        let (repo, odb): (OpaquePointer, OpaquePointer) = try lock.withLock {
            var repo: OpaquePointer?
            let rc = git_repository_open_ext(&repo, path, 0, nil)
            guard rc == 0, let repo else {
                let message = lastGitErrorMessage(rc)
                // libgit2 1.5.0/1.5.1 (Debian's) report a repository owned by another user as
                // GIT_ENOTFOUND "config value 'safe.directory' was not found" instead of
                // GIT_EOWNER (fixed upstream in 1.6, libgit2 PR #6408); recognise both.
                if rc == GIT_EOWNER.rawValue
                    || (rc == GIT_ENOTFOUND.rawValue && message.contains("safe.directory"))
                {
                    throw GitError.notOwned(path: path, message: message)
                }
                throw GitError.notARepository(path: path, message: message)
            }
            var odb: OpaquePointer?
            let orc = git_repository_odb(&odb, repo)
            guard orc == 0, let odb else {
                let message = lastGitErrorMessage(orc)
                git_repository_free(repo)
                throw GitError.libgit2(operation: "opening the object database", repository: path, code: orc, message: message)
            }
            return (repo, odb)
        }
        self.repo = repo
        self.odb = odb
        isBare = git_repository_is_bare(repo) == 1
        let gitDir = Self.stripTrailingSlash(String(cString: git_repository_path(repo)))
        gitDirectory = gitDir
        if !isBare, let workdir = git_repository_workdir(repo) {
            self.path = Self.stripTrailingSlash(String(cString: workdir))
        } else {
            self.path = gitDir
        }
    }

    deinit {
        lock.withLock {
            git_odb_free(odb)
            git_repository_free(repo)
        }
    }

    public var description: String { "git:\(path)" }

    private static func stripTrailingSlash(_ s: String) -> String {
        var s = s
        while s.count > 1, s.hasSuffix("/") { s.removeLast() }
        return s
    }

    // MARK: Revisions

    /// Resolves a revision (`HEAD`, a branch, `origin/main`, a tag, a full or short commit id,
    /// anything `git rev-parse` understands) and peels it to a commit.
    public func resolve(_ rev: String) throws -> GitCommit {
        try lock.withLock {
            var object: OpaquePointer?
            let rc = git_revparse_single(&object, repo, rev)
            guard rc == 0, let object else {
                throw GitError.revisionNotFound(revision: rev, repository: path, message: lastGitErrorMessage(rc))
            }
            defer { git_object_free(object) }
            var peeled: OpaquePointer?
            let prc = git_object_peel(&peeled, object, GIT_OBJECT_COMMIT)
            guard prc == 0, let commit = peeled else {
                throw GitError.notACommit(revision: rev, repository: path, message: lastGitErrorMessage(prc))
            }
            defer { git_object_free(commit) }
            return Self.describeCommit(commit)
        }
    }

    /// Must be called with the lock held.
    private static func describeCommit(_ commit: OpaquePointer) -> GitCommit {
        let summary = git_commit_summary(commit).map { String(cString: $0) } ?? ""
        return GitCommit(
            id: hexString(git_commit_id(commit)),
            treeID: hexString(git_commit_tree_id(commit)),
            summary: summary,
            time: Int64(git_commit_time(commit))
        )
    }

    // MARK: Trees

    /// The tree at `path` (`""` for the root) of `commit`, read from the object database only.
    public func tree(at commit: GitCommit, path subpath: String = "") throws -> GitTree {
        let subpath = normalizedPath(subpath)
        let tree: OpaquePointer = try lock.withLock {
            guard var rootOID = parseOID(commit.treeID) else {
                throw GitError.libgit2(
                    operation: "reading the tree of commit \(commit.shortID)", repository: path,
                    code: GIT_EINVALID.rawValue, message: "'\(commit.treeID)' is not a full object id")
            }
            var root: OpaquePointer?
            let rc = git_tree_lookup(&root, repo, &rootOID)
            guard rc == 0, let root else {
                throw GitError.libgit2(
                    operation: "reading tree \(commit.treeID.prefix(12)) of commit \(commit.shortID)",
                    repository: path, code: rc, message: lastGitErrorMessage(rc))
            }
            if subpath.isEmpty { return root }
            defer { git_tree_free(root) }
            var entry: OpaquePointer?
            let erc = git_tree_entry_bypath(&entry, root, subpath)
            guard erc == 0, let entry else {
                if erc == GIT_ENOTFOUND.rawValue {
                    throw GitError.pathNotFound(path: subpath, commit: commit.id, repository: path)
                }
                throw GitError.libgit2(
                    operation: "looking up '\(subpath)' at commit \(commit.shortID)", repository: path,
                    code: erc, message: lastGitErrorMessage(erc))
            }
            defer { git_tree_entry_free(entry) }
            guard git_tree_entry_type(entry) == GIT_OBJECT_TREE else {
                throw GitError.notADirectory(path: subpath, commit: commit.id, repository: path)
            }
            var sub: OpaquePointer?
            let src = git_tree_lookup(&sub, repo, git_tree_entry_id(entry))
            guard src == 0, let sub else {
                throw GitError.libgit2(
                    operation: "reading tree '\(subpath)' at commit \(commit.shortID)", repository: path,
                    code: src, message: lastGitErrorMessage(src))
            }
            return sub
        }
        return GitTree(repository: self, commit: commit, path: subpath, tree: tree)
    }

    /// Resolves `rev` and returns the tree at `path` of the commit it names.
    public func tree(at rev: String, path subpath: String = "") throws -> GitTree {
        try tree(at: resolve(rev), path: subpath)
    }

    // MARK: Fetch

    /// Fetches `remote` with its configured refspecs (and tag auto-following), updating the
    /// remote-tracking references. Local paths and `file://` URLs work as remotes.
    /// Holds the repository lock for the whole fetch; trees already handed out stay valid.
    public func fetch(remote name: String = "origin") throws -> FetchResult {
        try lock.withLock {
            var remoteHandle: OpaquePointer?
            let rc = git_remote_lookup(&remoteHandle, repo, name)
            guard rc == 0, let remote = remoteHandle else {
                throw GitError.remoteNotFound(remote: name, repository: path, message: lastGitErrorMessage(rc))
            }
            defer { git_remote_free(remote) }
            let url = git_remote_url(remote).map { String(cString: $0) } ?? "(no url)"

            var options = git_fetch_options()
            let irc = git_fetch_options_init(&options, UInt32(GIT_FETCH_OPTIONS_VERSION))
            guard irc == 0 else {
                throw GitError.fetchFailed(remote: name, url: url, repository: path, message: lastGitErrorMessage(irc))
            }
            let collector = RefUpdateCollector()
            options.callbacks.payload = Unmanaged.passUnretained(collector).toOpaque()
            options.callbacks.update_tips = { refname, old, new, payload in
                guard let refname, let new, let payload else { return 0 }
                let collector = Unmanaged<RefUpdateCollector>.fromOpaque(payload).takeUnretainedValue()
                let oldID: String? = old.flatMap { git_oid_is_zero($0) == 1 ? nil : hexString($0) }
                collector.updates.append(
                    FetchResult.RefUpdate(name: String(cString: refname), old: oldID, new: hexString(new)))
                return 0
            }
            let frc = withExtendedLifetime(collector) {
                git_remote_fetch(remote, nil, &options, "kaipm: fetch \(name)")
            }
            guard frc == 0 else {
                throw GitError.fetchFailed(remote: name, url: url, repository: path, message: lastGitErrorMessage(frc))
            }
            let received = git_remote_stats(remote).map { Int($0.pointee.received_objects) } ?? 0
            return FetchResult(remote: name, url: url, updatedRefs: collector.updates, receivedObjects: received)
        }
    }
}

/// Collects `update_tips` callbacks during one fetch; only touched by the fetching thread.
private final class RefUpdateCollector {
    var updates: [FetchResult.RefUpdate] = []
}
