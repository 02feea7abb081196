import KaipmCore

/// One way a store entry differs from what was installed.
public struct IntegrityProblem: Sendable, Hashable, CustomStringConvertible {
    /// The kind of difference.
    public enum Kind: String, Sendable, Hashable, Codable {
        /// The entry's directory is gone.
        case missingEntry
        /// A file (or anything else) appeared in the entry.
        case added
        /// A recorded file is gone.
        case removed
        /// A file's content changed, or its size, mtime, ctime or inode did (quick check).
        case modified
        /// A recorded file is now a symlink, directory, fifo, ...; or the entry is no longer a directory.
        case typeChanged
        /// Permission bits differ from the read-only ones set at install.
        case modeChanged
        /// The re-computed tree hash differs and no single file can be blamed (no index to compare with).
        case hashMismatch
        /// A file could not be read during a full check.
        case unreadable
    }

    /// The path inside the entry (`""` for the entry itself, a trailing `/` for a directory).
    public var path: String
    /// The kind of difference.
    public var kind: Kind
    /// What differs, for humans (`'hooks/install' modified: size 120 → 131 bytes`).
    public var description: String

    /// A problem record.
    public init(path: String, kind: Kind, description: String) {
        self.path = path
        self.kind = kind
        self.description = description
    }
}

/// The outcome of checking one store entry against its stat cache or its tree hash.
public struct IntegrityReport: Sendable, Hashable {
    /// The checked entry.
    public var hash: TreeHash
    /// Whether every byte was re-read and re-hashed (asked for, or quick mode without an index).
    public var fullCheck: Bool
    /// Every difference found, sorted by path; empty when the entry is intact.
    public var problems: [IntegrityProblem]

    /// A report.
    public init(hash: TreeHash, fullCheck: Bool, problems: [IntegrityProblem]) {
        self.hash = hash
        self.fullCheck = fullCheck
        self.problems = problems
    }

    /// True when nothing differs.
    public var isIntact: Bool { problems.isEmpty }
}

/// One installed plugin tree in the store.
public struct StoreEntry: Sendable, Hashable {
    /// The tree hash, which names the entry's directory.
    public var hash: TreeHash
    /// The absolute path of the entry's directory (`<store>/<hash.hex>`).
    public var path: String
    /// The entry's files, sorted by path in byte order.
    public var files: [HashedFile]
    /// True when this call copied the files; false when an intact entry was already there.
    public var installedNow: Bool

    /// An entry record.
    public init(hash: TreeHash, path: String, files: [HashedFile], installedNow: Bool) {
        self.hash = hash
        self.path = path
        self.files = files
        self.installedNow = installedNow
    }
}
