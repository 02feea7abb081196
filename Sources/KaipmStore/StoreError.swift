import KaipmCore

/// Why hashing a plugin tree or using the plugin store failed: what, on which file, and the fix.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The tree holds a symlink; plugins must consist of regular files only.
    case symlink(path: String, tree: String)
    /// The tree holds something that is neither a file nor a directory (fifo, device, socket, submodule).
    case specialFile(path: String, tree: String)
    /// A path is absolute, has `.`/`..` or empty components, a backslash, a NUL or a newline.
    case invalidPath(path: String, tree: String, reason: String)
    /// The tree has more files than `TreeLimits.maxFiles`.
    case tooManyFiles(count: Int, limit: Int, tree: String)
    /// The files of the tree add up to more than `TreeLimits.maxTotalBytes`.
    case treeTooLarge(bytes: Int, limit: Int, tree: String)
    /// One file is larger than `TreeLimits.maxFileBytes`.
    case fileTooLarge(path: String, bytes: Int, limit: Int, tree: String)
    /// The tree's content hash is not the pinned one.
    case checksumMismatch(expected: TreeHash, actual: TreeHash, tree: String)
    /// The source tree could not be listed or read.
    case source(FileTreeError)
    /// A file-system operation on the store (or a source directory) failed.
    case io(operation: String, path: String, reason: String)

    /// The message shown to the operator, ending with what to do about it.
    public var description: String {
        switch self {
        case let .symlink(path, tree):
            return "\(tree): plugin tree contains a symlink at '\(path)'; symlinks are refused: "
                + "replace it with a regular file (a copy of its target)"
        case let .specialFile(path, tree):
            return "\(tree): plugin tree contains '\(path)', which is not a regular file "
                + "(a fifo, device, socket or git submodule); remove it from the plugin"
        case let .invalidPath(path, tree, reason):
            return "\(tree): plugin tree contains an unacceptable path '\(Self.printable(path))': \(reason); rename it"
        case let .tooManyFiles(count, limit, tree):
            return "\(tree): plugin tree has \(count) files, over the limit of \(limit); "
                + "remove files the plugin does not need (or raise the store's file-count limit)"
        case let .treeTooLarge(bytes, limit, tree):
            return "\(tree): plugin tree holds at least \(Self.bytes(bytes)), over the limit of \(Self.bytes(limit)); "
                + "remove large files the plugin does not need (or raise the store's size limit)"
        case let .fileTooLarge(path, bytes, limit, tree):
            return "\(tree): '\(path)' is at least \(Self.bytes(bytes)), over the per-file limit of \(Self.bytes(limit)); "
                + "ship large artefacts outside the plugin tree (or raise the store's per-file limit)"
        case let .checksumMismatch(expected, actual, tree):
            return "\(tree): checksum mismatch: expected \(expected), got \(actual) — the source changed; "
                + "update the checksum pin in plugins/<id>.yaml if the change is intended"
        case let .source(error):
            return error.description
        case let .io(operation, path, reason):
            return "cannot \(operation) '\(path)': \(reason); check the permissions and free space of that file system"
        }
    }

    /// `n` bytes in a readable unit.
    static func bytes(_ n: Int) -> String {
        if n >= 1 << 20, n % (1 << 20) == 0 { return "\(n >> 20) MiB" }
        if n >= 1 << 20 { return "\(n) bytes (\(n >> 20) MiB)" }
        return "\(n) bytes"
    }

    /// A path with control characters escaped so that the message stays on one line.
    static func printable(_ path: String) -> String {
        var out = ""
        for scalar in path.unicodeScalars {
            switch scalar {
            case "\0": out += "\\0"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// The rules every path in a hashed or stored plugin tree must follow.
enum TreePathRules {
    /// Why `path` is not acceptable as a file path inside a plugin tree, or nil when it is.
    static func problem(with path: String) -> String? {
        var path = path
        return path.withUTF8 { problem(withBytes: $0) }
    }

    /// `problem(with:)` for a path's UTF-8 bytes, checked without allocating when it is acceptable.
    static func problem(withBytes path: UnsafeBufferPointer<UInt8>) -> String? {
        if path.isEmpty { return "the path is empty" }
        if path[0] == UInt8(ascii: "/") { return "absolute paths are refused" }
        for byte in path {
            switch byte {
            case 0: return "it contains a NUL byte"
            case UInt8(ascii: "\\"): return "it contains a backslash"
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                return "it contains a line break (the h1 hash format is line based)"
            default: continue
            }
        }
        // Components, in order: none may be empty (a doubled or trailing '/'), "." or "..".
        var start = 0
        while start <= path.count {
            var end = start
            while end < path.count, path[end] != UInt8(ascii: "/") { end += 1 }
            switch end - start {
            case 0: return "it has an empty component (a doubled or trailing '/')"
            case 1 where path[start] == UInt8(ascii: "."): return "it has a '.' component"
            case 2 where path[start] == UInt8(ascii: ".") && path[start + 1] == UInt8(ascii: "."):
                return "it has a '..' component"
            default: break
            }
            start = end + 1
        }
        return nil
    }

    /// Throws `.invalidPath` unless `path` is "" (the root) or an acceptable relative path.
    static func checkSubtree(_ path: String, tree: String) throws(StoreError) {
        guard !path.isEmpty else { return }
        if let reason = problem(with: path) {
            throw .invalidPath(path: path, tree: tree, reason: reason)
        }
    }
}
