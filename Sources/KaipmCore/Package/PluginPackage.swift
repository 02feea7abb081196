import Foundation

/// A plugin's package as read from its tree: `plugin.json`, `manifest.yaml` and the config schema.
///
/// The seed's layout: `plugin.json`, `manifest.yaml`, `main.py`, `hooks/`, `ui/config.schema.json`,
/// optional `ui/settingsForm.tsx`, `sandbox/`. Symlinks and anything that is not a regular file are refused.
public struct PluginPackage: Sendable, Hashable, Codable {
    /// `plugin.json`.
    public struct Metadata: Sendable, Hashable, Codable {
        public var id: String
        public var name: String
        public var version: SemanticVersion
        public var author: String
        public var license: String
        /// Whether the plugin expects to run sandboxed; only core plugins may say false.
        public var sandbox: Bool
        public var description: String?
    }

    /// `manifest.yaml`.
    public struct Manifest: Sendable, Hashable, Codable {
        public var capabilities: [String]
        /// The most a plugin may be granted: a grant beyond these is an error.
        public var permissions: Grants
        /// The Python entry point, relative to the plugin root (`main.py`).
        public var main: String
        /// Hook name → file (`onLoad` → `hooks/onLoad.py`).
        public var hooks: [String: String]
        public var extensionPoints: [String]
        /// Commands `onCommand` answers, for `kaipm run` and the user UI.
        public var commands: [String]
    }

    public var metadata: Metadata
    public var manifest: Manifest
    /// The text of `ui/config.schema.json`.
    public var configSchema: String
    /// Defaults found in the schema's `properties` (recursively through nested objects).
    public var configDefaults: ConfigValue
    /// Whether `ui/settingsForm.tsx` is present.
    public var hasSettingsForm: Bool
    /// Dotted config paths the schema marks secret (`writeOnly: true` or `x-kaipm-secret: true`),
    /// as `ConfigSecrets.paths(in:)` finds them.
    public var secretPaths: Set<String>

    /// The hooks a plugin may declare.
    public static let knownHooks: Set<String> = ["onLoad", "onUnload", "onCommand", "onConfigChange", "onHealth"]

    /// Reads and validates the package under `root` in `tree`. `display` is how the plugin's
    /// folder is shown in messages. Returns every problem found, not just the first.
    public static func read(from tree: some FileTree, under root: String, display: String,
                            pluginID: String) -> Result<PluginPackage, DesiredStateError> {
        var problems: [Diagnostic] = []
        func path(_ name: String) -> String { root.isEmpty ? name : root + "/" + name }
        func at(_ name: String) -> SourceLocation { SourceLocation(file: display + "/" + name) }

        let entries: [FileTreeEntry]
        do {
            entries = try tree.entries(under: root)
        } catch {
            return .failure(DesiredStateError([Diagnostic("cannot list the plugin folder: \(error)",
                                                          at: SourceLocation(file: display), plugin: pluginID)]))
        }
        var files = Set<String>()
        for entry in entries {
            switch entry.kind {
            case .file, .executable: files.insert(entry.path)
            case .symlink:
                problems.append(Diagnostic("symlink refused", at: at(entry.path), plugin: pluginID,
                                           hint: "a plugin may contain regular files only; replace the link with the file"))
            case .other:
                problems.append(Diagnostic("not a regular file (device, socket, fifo or submodule)", at: at(entry.path),
                                           plugin: pluginID, hint: "remove it from the plugin"))
            }
        }
        for required in ["plugin.json", "manifest.yaml", "main.py", "ui/config.schema.json"] where !files.contains(required) {
            problems.append(Diagnostic("missing required file \(required)", at: at(required), plugin: pluginID,
                                       hint: "a plugin has plugin.json, manifest.yaml, main.py, hooks/ and ui/config.schema.json"))
        }
        guard problems.isEmpty else { return .failure(DesiredStateError(problems)) }

        func load(_ name: String) -> YAMLNode? {
            do {
                let bytes = try tree.contents(of: path(name))
                if name.hasSuffix(".json"), let problem = strictJSONProblem(bytes) {
                    problems.append(Diagnostic("invalid JSON: \(problem)", at: at(name), plugin: pluginID))
                    return nil
                }
                return try YAMLDocument.parse(bytes, file: display + "/" + name)
            } catch let diagnostic as Diagnostic {
                problems.append(Diagnostic(diagnostic.message, at: diagnostic.location, plugin: pluginID, hint: diagnostic.hint))
            } catch {
                problems.append(Diagnostic("cannot read: \(error)", at: at(name), plugin: pluginID))
            }
            return nil
        }

        let metadata = load("plugin.json").flatMap { readMetadata($0, pluginID: pluginID, problems: &problems) }
        let manifest = load("manifest.yaml").flatMap { readManifest($0, files: files, pluginID: pluginID, problems: &problems) }
        var schema = ""
        var defaults = ConfigValue.map([:])
        var secrets: Set<String> = []
        if let node = load("ui/config.schema.json") {
            schema = String(decoding: (try? tree.contents(of: path("ui/config.schema.json"))) ?? [], as: UTF8.self)
            if case .mapping = node.value {
                defaults = schemaDefaults(node) ?? .map([:])
                secrets = ConfigSecrets.paths(in: node.jsonValue)
            } else {
                problems.append(Diagnostic("the config schema must be a JSON object", at: node.location, plugin: pluginID))
            }
        }
        if let metadata, metadata.id != pluginID {
            problems.append(Diagnostic("plugin.json id '\(metadata.id)' does not match the desired entry '\(pluginID)'",
                                       at: at("plugin.json"), plugin: pluginID,
                                       hint: "the id in plugins/<id>.yaml and plugin.json must be the same"))
        }
        guard problems.isEmpty, let metadata, let manifest else { return .failure(DesiredStateError(problems)) }
        return .success(PluginPackage(metadata: metadata, manifest: manifest, configSchema: schema, configDefaults: defaults,
                                      hasSettingsForm: files.contains("ui/settingsForm.tsx"), secretPaths: secrets))
    }

    /// Nil when `bytes` are strict JSON, else what JSONSerialization said.
    static func strictJSONProblem(_ bytes: [UInt8]) -> String? {
        do {
            _ = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
            return nil
        } catch {
            let text = "\(error)"
            if let range = text.range(of: "NSDebugDescription=") {
                return String(text[range.upperBound...].prefix(while: { $0 != "," && $0 != "}" }))
            }
            return "the file is not valid JSON"
        }
    }

    private static func readMetadata(_ node: YAMLNode, pluginID: String, problems: inout [Diagnostic]) -> Metadata? {
        var reader = MappingReader(node, context: "plugin.json", plugin: pluginID)
        let id = reader.string("id", required: true, what: "the plugin id")
        let name = reader.string("name", required: true, what: "a display name")
        let versionText = reader.string("version", required: true, what: "a semantic version")
        let author = reader.string("author", required: true, what: "who wrote it")
        let license = reader.string("license", required: true, what: "an SPDX license id")
        let sandbox = reader.bool("sandbox") ?? true
        let description = reader.string("description")
        _ = reader.node("homepage")
        _ = reader.strings("keywords")
        var version: SemanticVersion?
        if let versionText {
            version = SemanticVersion(versionText)
            if version == nil {
                reader.report("version '\(versionText)' is not a semantic version", at: reader.node("version") ?? node,
                              hint: "write MAJOR.MINOR.PATCH")
            }
        }
        reader.finish()
        problems += reader.diagnostics
        guard reader.diagnostics.isEmpty, let id, let name, let version, let author, let license else { return nil }
        return Metadata(id: id, name: name, version: version, author: author, license: license, sandbox: sandbox,
                        description: description)
    }

    private static func readManifest(_ node: YAMLNode, files: Set<String>, pluginID: String,
                                     problems: inout [Diagnostic]) -> Manifest? {
        var reader = MappingReader(node, context: "manifest.yaml", plugin: pluginID)
        checkHeader(&reader, kind: "PluginManifest")
        let capabilities = reader.strings("capabilities")
        var permissions = Grants()
        if var nested = reader.mapping("permissions") {
            permissions = Grants.read(&nested)
            reader.absorb(nested.diagnostics)
        }
        var main = "main.py"
        var hooks: [String: String] = [:]
        if var entry = reader.mapping("entryPoints") {
            main = entry.string("main") ?? "main.py"
            let hooksNode = entry.node("hooks")
            if let hooksNode, case let .mapping(pairs) = hooksNode.value {
                for pair in pairs {
                    guard knownHooks.contains(pair.key) else {
                        let hint = Spelling.closest(to: pair.key, in: Array(knownHooks)).map { "did you mean '\($0)'?" }
                            ?? "known hooks: \(knownHooks.sorted().joined(separator: ", "))"
                        entry.report("unknown hook '\(pair.key)'", at: pair.value, hint: hint)
                        continue
                    }
                    if let file = entry.string(pair.value, key: pair.key) { hooks[pair.key] = file }
                }
            } else if let hooksNode, hooksNode.value != .null {
                entry.report("'hooks' must map hook names to files", at: hooksNode)
            }
            entry.finish()
            reader.absorb(entry.diagnostics)
            for file in [main] + hooks.values.sorted() where !files.contains(file) {
                reader.report("entry point '\(file)' is not in the plugin", at: reader.node("entryPoints") ?? node,
                              hint: "add the file or fix the path")
            }
        }
        let extensionPoints = reader.strings("extensionPoints")
        let commands = reader.strings("commands")
        reader.finish()
        problems += reader.diagnostics
        guard reader.diagnostics.isEmpty else { return nil }
        return Manifest(capabilities: capabilities, permissions: permissions, main: main, hooks: hooks,
                        extensionPoints: extensionPoints, commands: commands)
    }

    /// Defaults of an object schema's properties, recursing into nested object schemas.
    static func schemaDefaults(_ schema: YAMLNode) -> ConfigValue? {
        guard case let .mapping(pairs) = schema.value else { return nil }
        if let explicit = pairs.first(where: { $0.key == "default" }) { return ConfigValue(explicit.value) }
        guard let properties = pairs.first(where: { $0.key == "properties" }), case let .mapping(props) = properties.value.value else {
            return nil
        }
        var map: [String: ConfigValue] = [:]
        for property in props {
            if let value = schemaDefaults(property.value) { map[property.key] = value }
        }
        return map.isEmpty ? nil : .map(map)
    }

    /// Problems with `grants` beyond what the manifest asked for.
    public func excessGrants(_ grants: Grants) -> [String] {
        var excess: [String] = []
        for endpoint in grants.network where !manifest.permissions.network.contains(endpoint) {
            excess.append("network \(endpoint)")
        }
        for grant in grants.filesystem {
            let allowed = manifest.permissions.filesystem.contains { requested in
                (grant.path == requested.path || grant.path.hasPrefix(requested.path + "/"))
                    && (requested.mode == .rw || grant.mode == .ro)
            }
            if !allowed { excess.append("filesystem \(grant.path) (\(grant.mode.rawValue))") }
        }
        return excess
    }
}
