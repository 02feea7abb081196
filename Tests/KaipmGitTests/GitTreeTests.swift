import Foundation
import KaipmCore
import Testing

@testable import KaipmGit

/// A small desired-state-like repository: nested directories, an executable and a symlink.
private func makeDesiredRepository(_ fx: GitFixture) throws {
    try fx.initRepository("repo")
    try fx.write("repo/README.md", "# desired state\n")
    try fx.write("repo/hosts/alpha.yaml", "host: alpha\n")
    try fx.write("repo/plugins/a/plugin.yaml", "name: a\nversion: 1.0.0\n")
    try fx.write("repo/plugins/b/plugin.yaml", "name: b\n")
    try fx.write("repo/plugins/b/bin/run", "#!/bin/sh\necho b\n", executable: true)
    try fx.write("repo/plugins-extra.yaml", "extra: true\n")  // sorts between 'plugins' files
    try fx.symlink("repo/latest", to: "plugins/a")
    try fx.commitAll("repo", "Initial desired state\n\nWith a body.")
}

@Suite struct GitTreeTests {
    @Test func listsTheWholeTreeInByteOrderWithKindsSizesAndIDs() throws {
        let fx = try GitFixture()
        try makeDesiredRepository(fx)
        let repo = try GitRepository(path: fx.path("repo"))
        let tree = try repo.tree(at: repo.resolve("HEAD"), path: "")

        let entries = try tree.entries(under: "")
        #expect(entries.map(\.path) == [
            "README.md",
            "hosts/alpha.yaml",
            "latest",
            "plugins-extra.yaml",
            "plugins/a/plugin.yaml",
            "plugins/b/bin/run",
            "plugins/b/plugin.yaml",
        ])
        let byPath = Dictionary(uniqueKeysWithValues: entries.map { ($0.path, $0) })
        #expect(byPath["README.md"]?.kind == .file)
        #expect(byPath["README.md"]?.size == "# desired state\n".utf8.count)
        #expect(byPath["plugins/b/bin/run"]?.kind == .executable)
        #expect(byPath["plugins/b/bin/run"]?.size == "#!/bin/sh\necho b\n".utf8.count)
        #expect(byPath["latest"]?.kind == .symlink)
        #expect(byPath["latest"]?.size == 0)
        for entry in entries {
            let expected = try fx.git("rev-parse", "HEAD:\(entry.path)", in: "repo")
            #expect(entry.id == expected, "id of \(entry.path)")
        }
    }

    @Test func listsASubdirectoryWithRelativePaths() throws {
        let fx = try GitFixture()
        try makeDesiredRepository(fx)
        let repo = try GitRepository(path: fx.path("repo"))
        let tree = try repo.tree(at: "HEAD")
        #expect(try tree.entries(under: "plugins").map(\.path) == ["a/plugin.yaml", "b/bin/run", "b/plugin.yaml"])
        #expect(try tree.entries(under: "plugins/b/").map(\.path) == ["bin/run", "plugin.yaml"])

        // A tree rooted at a subdirectory sees paths relative to it.
        let sub = try repo.tree(at: repo.resolve("HEAD"), path: "plugins/b")
        #expect(try sub.entries(under: "").map(\.path) == ["bin/run", "plugin.yaml"])
        #expect(try sub.contents(of: "plugin.yaml") == Array("name: b\n".utf8))
        #expect(sub.path == "plugins/b")
    }

    @Test func readsFileContents() throws {
        let fx = try GitFixture()
        try makeDesiredRepository(fx)
        let repo = try GitRepository(path: fx.path("repo"))
        let tree = try repo.tree(at: "main")
        #expect(try tree.contents(of: "plugins/a/plugin.yaml") == Array("name: a\nversion: 1.0.0\n".utf8))
        #expect(try tree.contents(of: "plugins/b/bin/run") == Array("#!/bin/sh\necho b\n".utf8))
        #expect(try tree.contents(of: "/hosts/alpha.yaml") == Array("host: alpha\n".utf8))
    }

    @Test func readsAnOlderRevision() throws {
        let fx = try GitFixture()
        try makeDesiredRepository(fx)
        let first = try fx.git("rev-parse", "HEAD", in: "repo")
        try fx.write("repo/plugins/a/plugin.yaml", "name: a\nversion: 2.0.0\n")
        try fx.write("repo/plugins/c/plugin.yaml", "name: c\n")
        try fx.commitAll("repo", "Upgrade a, add c")

        let repo = try GitRepository(path: fx.path("repo"))
        let old = try repo.tree(at: repo.resolve("HEAD~1"))
        let new = try repo.tree(at: repo.resolve("HEAD"))
        #expect(old.commit.id == first)
        #expect(try old.contents(of: "plugins/a/plugin.yaml") == Array("name: a\nversion: 1.0.0\n".utf8))
        #expect(try new.contents(of: "plugins/a/plugin.yaml") == Array("name: a\nversion: 2.0.0\n".utf8))
        #expect(!old.exists("plugins/c"))
        #expect(new.exists("plugins/c/plugin.yaml"))
        #expect(try old.entries(under: "plugins").map(\.path) == ["a/plugin.yaml", "b/bin/run", "b/plugin.yaml"])
    }

    @Test func neverSeesTheWorkTreeOrTheIndex() throws {
        let fx = try GitFixture()
        try makeDesiredRepository(fx)
        try fx.write("repo/README.md", "edited but not committed\n")
        try fx.write("repo/untracked.yaml", "nobody: added me\n")
        try fx.write("repo/plugins/staged/plugin.yaml", "name: staged\n")
        try fx.git("add", "plugins/staged/plugin.yaml", in: "repo")
        try FileManager.default.removeItem(atPath: fx.path("repo/hosts/alpha.yaml"))

        let repo = try GitRepository(path: fx.path("repo"))
        let tree = try repo.tree(at: "HEAD")
        #expect(try tree.contents(of: "README.md") == Array("# desired state\n".utf8))
        #expect(try tree.contents(of: "hosts/alpha.yaml") == Array("host: alpha\n".utf8))
        #expect(!tree.exists("untracked.yaml"))
        #expect(!tree.exists("plugins/staged"))
        let paths = try tree.entries(under: "").map(\.path)
        #expect(!paths.contains("untracked.yaml"))
        #expect(!paths.contains("plugins/staged/plugin.yaml"))
        #expect(paths.contains("hosts/alpha.yaml"))
    }

    @Test func submoduleGitlinksAreListedAsOther() throws {
        let fx = try GitFixture()
        try makeDesiredRepository(fx)
        let target = try fx.git("rev-parse", "HEAD", in: "repo")
        try fx.git("update-index", "--add", "--cacheinfo", "160000,\(target),vendor/sub", in: "repo")
        try fx.git("commit", "-q", "-m", "Add a gitlink", in: "repo")

        let repo = try GitRepository(path: fx.path("repo"))
        let tree = try repo.tree(at: "HEAD")
        let entry = try #require(try tree.entries(under: "vendor").first)
        #expect(entry == FileTreeEntry(path: "sub", kind: .other, size: 0, id: target))
        #expect(throws: FileTreeError.notARegularFile(path: "vendor/sub", tree: tree.description)) {
            try tree.contents(of: "vendor/sub")
        }
    }

    @Test func identityChangesOnlyWhenTheSubtreeChanges() throws {
        let fx = try GitFixture()
        try makeDesiredRepository(fx)
        let repo = try GitRepository(path: fx.path("repo"))
        let before = try repo.tree(at: "HEAD")
        #expect(try before.identity(of: "") == fx.git("rev-parse", "HEAD^{tree}", in: "repo"))
        #expect(try before.identity(of: "") == before.commit.treeID)
        #expect(try before.identity(of: "plugins/a") == fx.git("rev-parse", "HEAD:plugins/a", in: "repo"))
        #expect(try before.identity(of: "plugins/a/plugin.yaml") == fx.git("rev-parse", "HEAD:plugins/a/plugin.yaml", in: "repo"))

        try fx.write("repo/plugins/b/plugin.yaml", "name: b\nversion: 2\n")
        try fx.commitAll("repo", "Change b only")
        let after = try repo.tree(at: "HEAD")

        #expect(try after.identity(of: "plugins/a") == before.identity(of: "plugins/a"))
        #expect(try after.identity(of: "hosts") == before.identity(of: "hosts"))
        #expect(try after.identity(of: "plugins/b") != before.identity(of: "plugins/b"))
        #expect(try after.identity(of: "plugins") != before.identity(of: "plugins"))
        #expect(try after.identity(of: "") != before.identity(of: ""))

        // A tree rooted at a subdirectory: "" is that subdirectory's tree id.
        let sub = try repo.tree(at: repo.resolve("HEAD"), path: "plugins/a")
        #expect(try sub.identity(of: "") == before.identity(of: "plugins/a"))
        #expect(try sub.treeID == before.identity(of: "plugins/a"))
    }

    @Test func fileTreeErrorsNameThePathAndTheTree() throws {
        let fx = try GitFixture()
        try makeDesiredRepository(fx)
        let repo = try GitRepository(path: fx.path("repo"))
        let tree = try repo.tree(at: "HEAD")
        let where_ = tree.description

        #expect(throws: FileTreeError.notFound(path: "plugins/zzz/plugin.yaml", tree: where_)) {
            try tree.contents(of: "plugins/zzz/plugin.yaml")
        }
        #expect(throws: FileTreeError.notFound(path: "nope.yaml", tree: where_)) {
            try tree.contents(of: "nope.yaml")
        }
        #expect(throws: FileTreeError.notARegularFile(path: "plugins/a", tree: where_)) {
            try tree.contents(of: "plugins/a")
        }
        #expect(throws: FileTreeError.notARegularFile(path: "latest", tree: where_)) {
            try tree.contents(of: "latest")
        }
        #expect(throws: FileTreeError.notARegularFile(path: "", tree: where_)) {
            try tree.contents(of: "")
        }
        #expect(throws: FileTreeError.notADirectory(path: "README.md", tree: where_)) {
            try tree.entries(under: "README.md")
        }
        #expect(throws: FileTreeError.notADirectory(path: "README.md/x", tree: where_)) {
            try tree.contents(of: "README.md/x")
        }
        #expect(throws: FileTreeError.notFound(path: "missing/dir", tree: where_)) {
            try tree.entries(under: "missing/dir")
        }
        #expect(throws: FileTreeError.notFound(path: "missing", tree: where_)) {
            try tree.identity(of: "missing")
        }
        #expect(tree.exists(""))
        #expect(tree.exists("plugins"))
        #expect(tree.exists("latest"))
        #expect(!tree.exists("plugins/zzz"))
        #expect(!tree.exists("README.md/x"))

        let error = try #require(throws: FileTreeError.self) { try tree.contents(of: "nope.yaml") }
        #expect(error.description.contains("nope.yaml"))
        #expect(error.description.contains(repo.path))
    }

    @Test func descriptionNamesRepositoryCommitAndPath() throws {
        let fx = try GitFixture()
        try makeDesiredRepository(fx)
        let repo = try GitRepository(path: fx.path("repo"))
        let commit = try repo.resolve("HEAD")
        let root = try repo.tree(at: commit)
        let sub = try repo.tree(at: commit, path: "plugins")
        #expect(root.description == "git:\(repo.path)@\(commit.id.prefix(12))")
        #expect(sub.description == "git:\(repo.path)@\(commit.id.prefix(12)):plugins")
        #expect(repo.path.hasSuffix("/repo"))
    }

    @Test func treeAtAMissingOrFilePathThrowsGitError() throws {
        let fx = try GitFixture()
        try makeDesiredRepository(fx)
        let repo = try GitRepository(path: fx.path("repo"))
        let commit = try repo.resolve("HEAD")
        #expect(throws: GitError.pathNotFound(path: "desired", commit: commit.id, repository: repo.path)) {
            try repo.tree(at: commit, path: "desired")
        }
        #expect(throws: GitError.notADirectory(path: "README.md", commit: commit.id, repository: repo.path)) {
            try repo.tree(at: commit, path: "README.md")
        }
        let error = try #require(throws: GitError.self) { try repo.tree(at: commit, path: "desired/hosts") }
        #expect(error.description.contains("'desired/hosts'"))
        #expect(error.description.contains(commit.shortID))
    }

    @Test func concurrentReadersGetConsistentResults() async throws {
        let fx = try GitFixture()
        try makeDesiredRepository(fx)
        let repo = try GitRepository(path: fx.path("repo"))
        let tree = try repo.tree(at: "HEAD")
        let expected = try tree.entries(under: "").filter { $0.kind == .file || $0.kind == .executable }
            .map { try tree.contents(of: $0.path) }
        try await withThrowingTaskGroup(of: [[UInt8]].self) { group in
            for _ in 0..<8 {
                group.addTask {
                    // Each task also opens its own tree so the lock covers lookups and deinit.
                    let own = try repo.tree(at: "HEAD")
                    var all: [[UInt8]] = []
                    for _ in 0..<20 {
                        all = try own.entries(under: "").filter { $0.kind == .file || $0.kind == .executable }
                            .map { try tree.contents(of: $0.path) }
                    }
                    return all
                }
            }
            for try await result in group { #expect(result == expected) }
        }
    }
}
