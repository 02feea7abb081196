import Foundation
import KaipmCore
import Testing

@testable import KaipmGit

@Suite struct GitRepositoryTests {
    /// Two commits on main, a lightweight and an annotated tag on the first, a branch.
    private func makeHistory(_ fx: GitFixture) throws -> (first: String, second: String) {
        try fx.initRepository("repo")
        try fx.write("repo/hosts/alpha.yaml", "host: alpha\n")
        let first = try fx.commitAll("repo", "First commit\n\nBody text.", date: "2024-01-02T03:04:05Z")
        try fx.git("tag", "v1", in: "repo")
        try fx.git("tag", "-a", "v1-annotated", "-m", "Release 1", in: "repo")
        try fx.git("branch", "stable", in: "repo")
        try fx.write("repo/hosts/beta.yaml", "host: beta\n")
        let second = try fx.commitAll("repo", "Second commit", date: "2024-02-03T04:05:06Z")
        return (first, second)
    }

    @Test func resolvesHeadBranchesTagsAndShas() throws {
        let fx = try GitFixture()
        let (first, second) = try makeHistory(fx)
        let repo = try GitRepository(path: fx.path("repo"))

        let head = try repo.resolve("HEAD")
        #expect(head.id == second)
        #expect(head.summary == "Second commit")
        #expect(head.time == 1_706_933_106)  // 2024-02-03T04:05:06Z
        #expect(head.treeID == (try fx.git("rev-parse", "HEAD^{tree}", in: "repo")))

        #expect(try repo.resolve("main").id == second)
        #expect(try repo.resolve("refs/heads/main").id == second)
        #expect(try repo.resolve("stable").id == first)
        #expect(try repo.resolve("v1").id == first)
        #expect(try repo.resolve("v1-annotated").id == first)  // peeled through the tag object
        #expect(try repo.resolve(String(first.prefix(7))).id == first)
        #expect(try repo.resolve(first).id == first)
        #expect(try repo.resolve("HEAD~1").id == first)

        let old = try repo.resolve("v1")
        #expect(old.summary == "First commit")
        #expect(old.time == 1_704_164_645)  // 2024-01-02T03:04:05Z
        #expect(old.shortID == String(first.prefix(12)))
    }

    @Test func unknownRevisionsAreClearErrors() throws {
        let fx = try GitFixture()
        _ = try makeHistory(fx)
        let repo = try GitRepository(path: fx.path("repo"))

        let error = try #require(throws: GitError.self) { try repo.resolve("no-such-branch") }
        guard case let .revisionNotFound(revision, repository, message) = error else {
            Issue.record("unexpected \(error)")
            return
        }
        #expect(revision == "no-such-branch")
        #expect(repository == repo.path)
        #expect(!message.isEmpty)
        #expect(error.description.contains("revision 'no-such-branch' not found in \(repo.path)"))
        #expect(error.description.contains("--fetch"))

        #expect(throws: GitError.self) { try repo.resolve("origin/main") }  // no remote yet
        #expect(throws: GitError.self) { try repo.resolve("0000000000000000000000000000000000000000") }
        #expect(throws: GitError.self) { try repo.resolve("HEAD~10") }

        // Something that exists but is not a commit.
        let blob = try #require(throws: GitError.self) { try repo.resolve("HEAD:hosts/alpha.yaml") }
        guard case .notACommit(revision: "HEAD:hosts/alpha.yaml", repository: repo.path, message: _) = blob else {
            Issue.record("unexpected \(blob)")
            return
        }
    }

    @Test func emptyRepositoryHasNoHead() throws {
        let fx = try GitFixture()
        try fx.initRepository("empty")
        let repo = try GitRepository(path: fx.path("empty"))
        let error = try #require(throws: GitError.self) { try repo.resolve("HEAD") }
        #expect(error.description.contains("revision 'HEAD' not found"))
    }

    @Test func opensFromASubdirectoryAndReportsTheWorkTree() throws {
        let fx = try GitFixture()
        _ = try makeHistory(fx)
        let repo = try GitRepository(path: fx.path("repo/hosts"))
        #expect(!repo.isBare)
        #expect(repo.path.hasSuffix("/repo"))
        #expect(repo.gitDirectory.hasSuffix("/repo/.git"))
        #expect(try repo.tree(at: "HEAD").contents(of: "hosts/beta.yaml") == Array("host: beta\n".utf8))
    }

    @Test func notARepositoryNamesThePathAndWhatToDo() throws {
        let fx = try GitFixture()
        try FileManager.default.createDirectory(atPath: fx.path("plain"), withIntermediateDirectories: true)
        let error = try #require(throws: GitError.self) { try GitRepository(path: fx.path("plain")) }
        guard case .notARepository(path: fx.path("plain"), message: _) = error else {
            Issue.record("unexpected \(error)")
            return
        }
        #expect(error.description.contains(fx.path("plain")))
        #expect(error.description.contains("--repo"))
        #expect(throws: GitError.self) { try GitRepository(path: fx.path("does/not/exist")) }
    }

    @Test func bareRepositoriesWork() throws {
        let fx = try GitFixture()
        let (_, second) = try makeHistory(fx)
        try fx.git("clone", "-q", "--bare", fx.path("repo"), fx.path("bare.git"), in: "")
        let repo = try GitRepository(path: fx.path("bare.git"))
        #expect(repo.isBare)
        #expect(repo.path.hasSuffix("/bare.git"))
        let head = try repo.resolve("HEAD")
        #expect(head.id == second)
        #expect(try repo.resolve("v1-annotated").summary == "First commit")
        let tree = try repo.tree(at: head)
        #expect(try tree.entries(under: "").map(\.path) == ["hosts/alpha.yaml", "hosts/beta.yaml"])
        #expect(try tree.contents(of: "hosts/alpha.yaml") == Array("host: alpha\n".utf8))
        #expect(tree.description.hasPrefix("git:\(repo.path)@"))
    }

    @Test func fetchBringsNewCommitsOfAFilePathRemote() throws {
        let fx = try GitFixture()
        let (_, second) = try makeHistory(fx)
        try fx.git("clone", "-q", fx.path("repo"), fx.path("clone"), in: "")
        let clone = try GitRepository(path: fx.path("clone"))
        #expect(try clone.resolve("origin/main").id == second)

        try fx.write("repo/hosts/gamma.yaml", "host: gamma\n")
        let third = try fx.commitAll("repo", "Third commit")
        try fx.git("tag", "v3", in: "repo")

        let result = try clone.fetch()
        #expect(result.remote == "origin")
        #expect(result.url == fx.path("repo"))
        #expect(result.changed)
        #expect(result.receivedObjects > 0)
        #expect(result.updatedRefs.contains(
            FetchResult.RefUpdate(name: "refs/remotes/origin/main", old: second, new: third)))
        #expect(result.updatedRefs.contains { $0.name == "refs/tags/v3" && $0.old == nil && $0.new == third })

        let fetched = try clone.resolve("origin/main")
        #expect(fetched.id == third)
        #expect(try clone.tree(at: fetched).contents(of: "hosts/gamma.yaml") == Array("host: gamma\n".utf8))
        // The local branch and work tree are left alone.
        #expect(try clone.resolve("main").id == second)
        #expect(!FileManager.default.fileExists(atPath: fx.path("clone/hosts/gamma.yaml")))

        // Nothing new: nothing updated.
        let again = try clone.fetch(remote: "origin")
        #expect(!again.changed)
    }

    @Test func fetchIntoABareMirrorOverFileURL() throws {
        let fx = try GitFixture()
        _ = try makeHistory(fx)
        try fx.git("init", "-q", "--bare", fx.path("mirror.git"), in: "")
        try fx.git("remote", "add", "upstream", "file://\(fx.path("repo"))", in: "mirror.git")
        let mirror = try GitRepository(path: fx.path("mirror.git"))
        let result = try mirror.fetch(remote: "upstream")
        #expect(result.url == "file://\(fx.path("repo"))")
        #expect(result.updatedRefs.contains { $0.name == "refs/remotes/upstream/main" && $0.old == nil })
        #expect(try mirror.resolve("upstream/main").id == fx.git("rev-parse", "main", in: "repo"))
        #expect(try mirror.resolve("upstream/stable").summary == "First commit")
    }

    @Test func fetchErrorsNameTheRemote() throws {
        let fx = try GitFixture()
        _ = try makeHistory(fx)
        let repo = try GitRepository(path: fx.path("repo"))

        let missing = try #require(throws: GitError.self) { try repo.fetch(remote: "origin") }
        guard case .remoteNotFound(remote: "origin", repository: repo.path, message: _) = missing else {
            Issue.record("unexpected \(missing)")
            return
        }
        #expect(missing.description.contains("remote 'origin'"))

        try fx.git("remote", "add", "gone", fx.path("nowhere"), in: "repo")
        let failed = try #require(throws: GitError.self) { try repo.fetch(remote: "gone") }
        guard case let .fetchFailed(remote, url, repository, message) = failed else {
            Issue.record("unexpected \(failed)")
            return
        }
        #expect(remote == "gone")
        #expect(url == fx.path("nowhere"))
        #expect(repository == repo.path)
        #expect(!message.isEmpty)
        #expect(failed.description.contains(fx.path("nowhere")))
    }
}
