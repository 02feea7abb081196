import Foundation
import Testing

@testable import KaipmGit

/// libgit2 (since 1.4.3) refuses repositories owned by another user, like git's
/// `safe.directory` check; 1.5.1 even reports it as "config value 'safe.directory' was not
/// found". kaipm often runs as root over a checkout owned by a deploy user, so the refusal must
/// come out as its own, actionable error. Needs root to give the fixture to another user.
@Suite struct GitOwnershipTests {
    @Test(.enabled(if: getuid() == 0, "needs root to give the repository to another user"))
    func aRepositoryOwnedByAnotherUserIsRefusedWithAnActionableError() throws {
        let fx = try GitFixture()
        try fx.initRepository("theirs")
        try fx.write("theirs/a.yaml", "a: 1\n")
        try fx.commitAll("theirs", "Theirs")
        let chown = Process()
        chown.executableURL = URL(fileURLWithPath: "/bin/chown")
        chown.arguments = ["-R", "65534:65534", fx.path("theirs")]
        try chown.run()
        chown.waitUntilExit()
        try #require(chown.terminationStatus == 0)

        let error = try #require(throws: GitError.self) { try GitRepository(path: fx.path("theirs")) }
        guard case .notOwned(path: fx.path("theirs"), message: _) = error else {
            Issue.record("expected .notOwned, got \(error)")
            return
        }
        #expect(error.description.contains("owned by another user"))
        #expect(error.description.contains("safe.directory"))
    }
}
