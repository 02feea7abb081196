import Foundation
import KaipmCore
import KaipmStore

extension PluginStore {
    /// Whether the store has an entry folder for `hash` (intact or not: `verify` tells).
    func contains(_ hash: TreeHash) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path(for: hash), isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
