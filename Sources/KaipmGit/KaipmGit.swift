import CLibgit2
import Foundation
import KaipmCore

// Shared plumbing for the libgit2 wrapper: one-time library initialisation, error capture and
// object-id formatting. Everything here is internal; the public surface is `GitRepository`,
// `GitTree`, `GitCommit`, `FetchResult` and `GitError`.

/// `git_libgit2_init` must run before any other libgit2 call. A global `let` is initialised
/// lazily and exactly once (swift_once), so touching it from every entry point is cheap and
/// race-free. libgit2 is never shut down: it lives as long as the process.
let libgit2Initialization: Int32 = git_libgit2_init()

/// Whether this libgit2 was built with thread support (Debian's is). Without it the
/// thread-local error slot and the global caches are shared process-wide, so every repository
/// must share one lock instead of having its own.
let libgit2IsThreadSafe: Bool = {
    _ = libgit2Initialization
    return git_libgit2_features() & Int32(GIT_FEATURE_THREADS.rawValue) != 0
}()

/// The single lock used by every repository when libgit2 has no thread support.
let processWideGitLock = NSLock()

/// The message of the last libgit2 error on this thread, or a generic text naming the code.
/// Must be called right after the failing call, before any other libgit2 call.
func lastGitErrorMessage(_ code: Int32) -> String {
    if let err = git_error_last(), let message = err.pointee.message {
        let text = String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines)
        if !text.isEmpty { return text }
    }
    return "libgit2 error \(code)"
}

private let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

/// The 40-character lowercase hex form of an object id.
func hexString(_ oid: UnsafePointer<git_oid>) -> String {
    withUnsafeBytes(of: oid.pointee.id) { raw in
        String(unsafeUninitializedCapacity: raw.count * 2) { out in
            var i = 0
            for byte in raw {
                out[i] = hexDigits[Int(byte >> 4)]
                out[i + 1] = hexDigits[Int(byte & 0x0f)]
                i += 2
            }
            return i
        }
    }
}

/// Parses a full 40-hex object id; nil when it is not one.
func parseOID(_ hex: String) -> git_oid? {
    guard hex.utf8.count == 40 else { return nil }
    var oid = git_oid()
    let rc = hex.withCString { git_oid_fromstrn(&oid, $0, 40) }
    return rc == 0 ? oid : nil
}

/// Splits a relative, `/`-separated path into its components, ignoring leading, trailing and
/// doubled slashes and `.` components, so `""`, `"/"` and `"."` all name the root.
func pathComponents(_ path: String) -> [Substring] {
    path.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
}

/// A path normalised the way the rest of the module reports it: components joined by `/`.
func normalizedPath(_ path: String) -> String {
    pathComponents(path).joined(separator: "/")
}
