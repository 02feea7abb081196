import ArgumentParser
import KaipmCore
import KaipmStore

extension Kaipm {
    /// `kaipm hash DIR`: the h1: tree hash to pin in a plugin entry.
    struct Hash: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the h1: tree hash of a plugin folder, for a 'checksum:' pin.")

        @Argument(help: ArgumentHelp("The plugin folder.", valueName: "dir"))
        var dir: String

        func run() throws {
            let hashed = try runReporting { try TreeHasher.hash(DirectoryTree(root: absolute(dir))) }
            printOut(hashed.hash.value + "\n")
        }
    }
}
