/// What can go wrong reading desired state from git. Every case carries what was asked for
/// (path, revision, remote) and libgit2's own message, and its description says what to do.
public enum GitError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Nothing at `path` (or above it) is a git repository.
    case notARepository(path: String, message: String)
    /// The repository exists but is owned by another user and libgit2 refuses it
    /// (the `safe.directory` check, GIT_EOWNER).
    case notOwned(path: String, message: String)
    /// `revision` does not resolve to any object (or is ambiguous, or malformed).
    case revisionNotFound(revision: String, repository: String, message: String)
    /// `revision` resolves, but to something that does not peel to a commit (a blob, a tree).
    case notACommit(revision: String, repository: String, message: String)
    /// `path` does not exist in the tree of `commit`.
    case pathNotFound(path: String, commit: String, repository: String)
    /// `path` exists in the tree of `commit` but is a file, not a directory.
    case notADirectory(path: String, commit: String, repository: String)
    /// The remote named `remote` is not configured in the repository.
    case remoteNotFound(remote: String, repository: String, message: String)
    /// Fetching from `remote` (at `url`) failed.
    case fetchFailed(remote: String, url: String, repository: String, message: String)
    /// Any other libgit2 failure (a missing or corrupt object, out of memory…).
    case libgit2(operation: String, repository: String, code: Int32, message: String)

    public var description: String {
        switch self {
        case let .notARepository(path, message):
            return "'\(path)' is not a git repository (\(message)); pass --repo or use --dir"
        case let .notOwned(path, message):
            return "the git repository at '\(path)' is owned by another user, so libgit2 refuses to open it "
                + "(safe.directory check; libgit2 said: \(message)); run kaipm as the repository's owner, "
                + "or trust it with `git config --global --add safe.directory <its top-level directory>` "
                + "(the work tree, or the bare repository itself; this libgit2 does not accept '*')"
        case let .revisionNotFound(revision, repository, message):
            return "revision '\(revision)' not found in \(repository) (\(message)); fetch first with --fetch or check the name"
        case let .notACommit(revision, repository, message):
            return "revision '\(revision)' in \(repository) does not name a commit (\(message)); pass a branch, tag or commit id"
        case let .pathNotFound(path, commit, repository):
            return "'\(path)' does not exist at commit \(commit.prefix(12)) in \(repository); "
                + "check the path and that it is committed and pushed at this revision"
        case let .notADirectory(path, commit, repository):
            return "'\(path)' at commit \(commit.prefix(12)) in \(repository) is a file where a directory was expected"
        case let .remoteNotFound(remote, repository, message):
            return "remote '\(remote)' is not configured in \(repository) (\(message)); "
                + "add it with `git remote add` or pass the right remote name"
        case let .fetchFailed(remote, url, repository, message):
            return "fetching remote '\(remote)' (\(url)) into \(repository) failed: \(message); "
                + "check that the URL is reachable and the credentials, or run without --fetch to use what is already fetched"
        case let .libgit2(operation, repository, code, message):
            return "\(repository): \(operation) failed: \(message) (libgit2 error \(code))"
        }
    }
}
