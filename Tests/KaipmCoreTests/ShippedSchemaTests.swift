import Foundation
import JSONSchema
import Testing
@testable import KaipmCore

/// The shipped schemas accept exactly what the typed readers accept.
@Suite struct ShippedSchemaTests {
    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    @Test("every shipped schema compiles and prints as the JSON it is", arguments: ShippedSchema.allCases)
    func shippedSchemaCompiles(_ schema: ShippedSchema) throws {
        _ = try schema.compile()
        let reparsed = try JSONValue.parse(schema.text)
        #expect(reparsed == schema.json)
        #expect(reparsed["$schema"] == "https://json-schema.org/draft/2020-12/schema")
        #expect(schema.text.hasSuffix("}\n"))
    }

    @Test("every file in desired-state/ and examples/ validates clean against its shipped schema")
    func shippedFilesValidateClean() throws {
        let fm = FileManager.default
        var checked: [String] = []
        let desired = Self.packageRoot + "/desired-state"
        let files = try #require(fm.enumerator(atPath: desired)?.allObjects as? [String])
        for relative in files.sorted() {
            guard let schema = ShippedSchema.forDesiredStatePath(relative) else { continue }
            let document = try YAMLDocument.parse(Array(try Data(contentsOf: URL(fileURLWithPath: desired + "/" + relative))),
                                                  file: "desired-state/" + relative)
            #expect(schema.validate(document).isEmpty, "\(relative): \(schema.validate(document))")
            checked.append(relative)
        }
        let examples = Self.packageRoot + "/examples/plugins"
        for plugin in try fm.contentsOfDirectory(atPath: examples).sorted() {
            for (name, schema) in [("plugin.json", ShippedSchema.plugin), ("manifest.yaml", .manifest)] {
                let path = "examples/plugins/\(plugin)/\(name)"
                let document = try YAMLDocument.parse(Array(try Data(contentsOf: URL(fileURLWithPath: Self.packageRoot + "/" + path))),
                                                      file: path)
                #expect(schema.validate(document).isEmpty, "\(path): \(schema.validate(document))")
                checked.append(path)
            }
        }
        #expect(checked.count >= 16, "\(checked)")
        #expect(checked.contains("kos.config.yaml") && checked.contains("hosts/edge-01.yaml") && checked.contains("plugins/weather.yaml"))
    }

    /// A document, which schema and reader it is for, and whether both must accept it.
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var schema: ShippedSchema
        var yaml: String
        var valid: Bool
        var testDescription: String { "\(schema.rawValue): \(name)" }
    }

    static let hash = "h1:" + Base64.encode([UInt8](repeating: 7, count: 32))
    static let key = Base64.encode([UInt8](repeating: 9, count: 32))
    static let entry = "apiVersion: kaipm/v1\nkind: Plugin\nid: weather\nversion: 1.2.0\n"

    static let cases: [Case] = [
        // Plugin entries.
        Case(name: "every field", schema: .pluginEntry, yaml: entry + """
            source: {path: examples/plugins/weather}
            checksum: \(hash)
            active: true
            suspend: false
            sandbox: true
            dependsOn: [core-logger]
            grants: {network: ["api.weather.example:443"], filesystem: [{path: /srv/maps, mode: ro}]}
            resources: {memory: 128Mi, cpu: 0.25, pids: 32}
            hosts: {labels: {role: edge, rack: 12}, names: [edge-01]}
            users: {allow: [alice, "*"], enabledByDefault: false}
            """, valid: true),
        Case(name: "nulls read as absent", schema: .pluginEntry, yaml: entry + """
            source: {path: null, dir: /opt/kai/weather}
            checksum: \(hash)
            active: ~
            dependsOn: [core-logger, null]
            grants: {network: null}
            resources: {memory: 1048576, pids: null}
            users: null
            hosts: {labels: null}
            """, valid: true),
        Case(name: "a typo (verison)", schema: .pluginEntry, yaml: entry.replacing("version:", with: "verison:")
             + "source: {path: a}\n", valid: false),
        Case(name: "no source", schema: .pluginEntry, yaml: entry, valid: false),
        Case(name: "two sources", schema: .pluginEntry, yaml: entry + "source: {path: a, dir: /b}\nchecksum: \(hash)\n", valid: false),
        Case(name: "a dir source without a pin", schema: .pluginEntry, yaml: entry + "source: {dir: /opt/w}\n", valid: false),
        Case(name: "a git source with a pin", schema: .pluginEntry,
             yaml: entry + "source: {git: {url: https://example.invalid/w.git, tag: v1}}\nchecksum: \(hash)\n", valid: true),
        Case(name: "a path source going up", schema: .pluginEntry, yaml: entry + "source: {path: a/../../etc}\n", valid: false),
        Case(name: "a short checksum", schema: .pluginEntry, yaml: entry + "source: {path: a}\nchecksum: h1:abc=\n", valid: false),
        Case(name: "dependsOn as one string", schema: .pluginEntry, yaml: entry + "source: {path: a}\ndependsOn: core\n", valid: false),
        Case(name: "a bad dependency id", schema: .pluginEntry, yaml: entry + "source: {path: a}\ndependsOn: [Core_Logger]\n", valid: false),
        Case(name: "a grant of /proc", schema: .pluginEntry,
             yaml: entry + "source: {path: a}\ngrants: {filesystem: [{path: //proc/self}]}\n", valid: false),
        Case(name: "a relative grant", schema: .pluginEntry,
             yaml: entry + "source: {path: a}\ngrants: {filesystem: [{path: /srv/../etc}]}\n", valid: false),
        Case(name: "a grant mode", schema: .pluginEntry,
             yaml: entry + "source: {path: a}\ngrants: {filesystem: [{path: /srv, mode: rwx}]}\n", valid: false),
        Case(name: "an endpoint without a port", schema: .pluginEntry,
             yaml: entry + "source: {path: a}\ngrants: {network: [api.example]}\n", valid: false),
        Case(name: "a memory unit", schema: .pluginEntry, yaml: entry + "source: {path: a}\nresources: {memory: 12Q}\n", valid: false),
        Case(name: "no cpu", schema: .pluginEntry, yaml: entry + "source: {path: a}\nresources: {cpu: 0}\n", valid: false),
        Case(name: "cpu null", schema: .pluginEntry, yaml: entry + "source: {path: a}\nresources: {cpu: null}\n", valid: false),
        Case(name: "a fractional pid count", schema: .pluginEntry, yaml: entry + "source: {path: a}\nresources: {pids: 1.5}\n", valid: false),
        Case(name: "active as a string", schema: .pluginEntry, yaml: entry + "source: {path: a}\nactive: \"yes\"\n", valid: false),
        Case(name: "a nested label", schema: .pluginEntry, yaml: entry + "source: {path: a}\nhosts: {labels: {role: {a: b}}}\n", valid: false),
        Case(name: "a v-prefixed version", schema: .pluginEntry,
             yaml: entry.replacing("1.2.0", with: "v1.2.0") + "source: {path: a}\n", valid: false),
        Case(name: "a prerelease version", schema: .pluginEntry,
             yaml: entry.replacing("1.2.0", with: "1.2.0-rc.1+build.5") + "source: {path: a}\n", valid: true),
        Case(name: "a wrong kind", schema: .pluginEntry, yaml: entry.replacing("kind: Plugin", with: "kind: Host")
             + "source: {path: a}\n", valid: false),
        // Host files.
        Case(name: "labels and overrides", schema: .host, yaml: """
            apiVersion: kaipm/v1
            kind: Host
            name: edge-01
            labels: {role: edge, rack: 7}
            plugins:
              weather: {active: false, config: {units: metric}}
              notes: {config: null}
            """, valid: true),
        Case(name: "an override that is not a mapping", schema: .host, yaml: "name: edge-01\nplugins: {weather: null}\n", valid: false),
        Case(name: "a config override that is a number", schema: .host, yaml: "plugins: {weather: {config: 5}}\n", valid: false),
        Case(name: "a typo (activ)", schema: .host, yaml: "plugins: {weather: {activ: false}}\n", valid: false),
        Case(name: "labels as a list", schema: .host, yaml: "labels: [edge]\n", valid: false),
        Case(name: "an empty file", schema: .host, yaml: "", valid: false),
        // kos.config.yaml.
        Case(name: "every key", schema: .kosConfig, yaml: """
            apiVersion: kaipm/v1
            kind: KosConfig
            preload: [core-logger]
            allowedSources: {paths: [examples/plugins], dirs: [/opt/kai-plugins], git: [], zip: []}
            defaults: {resources: {memory: 256Mi, cpu: 1, pids: 64}}
            trustedPublisherKeys: [{id: kai-core, ed25519: "\(key)"}]
            reconcileInterval: 90s
            isolation: {allowWeaker: false}
            """, valid: true),
        Case(name: "an empty file", schema: .kosConfig, yaml: "", valid: true),
        Case(name: "an interval in seconds", schema: .kosConfig, yaml: "reconcileInterval: 300\n", valid: true),
        Case(name: "a zero interval", schema: .kosConfig, yaml: "reconcileInterval: 0s\n", valid: false),
        Case(name: "a null interval", schema: .kosConfig, yaml: "reconcileInterval: null\n", valid: false),
        Case(name: "keys that are not a list", schema: .kosConfig, yaml: "trustedPublisherKeys: {id: a}\n", valid: false),
        Case(name: "a short key", schema: .kosConfig, yaml: "trustedPublisherKeys: [{id: a, ed25519: abcd}]\n", valid: false),
        Case(name: "a typo (preloads)", schema: .kosConfig, yaml: "preloads: [notes]\n", valid: false),
        Case(name: "a default cpu that is text", schema: .kosConfig, yaml: "defaults: {resources: {cpu: lots}}\n", valid: false),
        // plugin.json and manifest.yaml.
        Case(name: "every key", schema: .plugin, yaml: """
            {"id": "weather", "name": "Weather", "version": "1.2.0", "author": "a", "license": "MIT", "sandbox": true,
             "description": "d", "homepage": "https://example.invalid", "keywords": ["w"]}
            """, valid: true),
        Case(name: "no license", schema: .plugin, yaml: #"{"id": "weather", "name": "W", "version": "1.2.0", "author": "a"}"#,
             valid: false),
        Case(name: "a version that is a number", schema: .plugin,
             yaml: #"{"id": "weather", "name": "W", "version": 1.2, "author": "a", "license": "MIT"}"#, valid: false),
        Case(name: "an unknown key", schema: .plugin,
             yaml: #"{"id": "weather", "name": "W", "version": "1.2.0", "author": "a", "license": "MIT", "tags": []}"#, valid: false),
        Case(name: "every key", schema: .manifest, yaml: """
            apiVersion: kaipm/v1
            kind: PluginManifest
            capabilities: [weather.forecast]
            permissions: {network: ["api.weather.example:443"], filesystem: [{path: /srv/maps, mode: rw}]}
            entryPoints: {main: main.py, hooks: {onLoad: main.py, onHealth: null}}
            extensionPoints: [agent.tools]
            commands: [forecast]
            """, valid: true),
        Case(name: "an unknown hook", schema: .manifest, yaml: "entryPoints: {hooks: {onStart: main.py}}\n", valid: false),
        Case(name: "hooks as a list", schema: .manifest, yaml: "entryPoints: {hooks: [main.py]}\n", valid: false),
        Case(name: "a permission without a port", schema: .manifest, yaml: "permissions: {network: [api.example]}\n", valid: false),
    ]

    @Test("the schema and the typed reader agree", arguments: cases)
    func schemaAndReaderAgree(_ test: Case) throws {
        let document = try YAMLDocument.parse(Array(test.yaml.utf8), file: "doc.yaml")
        let schemaProblems = test.schema.validate(document)
        let readerProblems = try Self.readerProblems(test.schema, test.yaml, document)
        #expect(schemaProblems.isEmpty == test.valid, "schema: \(schemaProblems)")
        let draft07 = try JSONSchema.compile(json: test.schema.draft07Text)
        #expect(draft07.isValid(document.jsonValue) == test.valid, "the draft-07 declaration reads the same")
        #expect(readerProblems.isEmpty == test.valid, "reader: \(readerProblems)")
        for problem in schemaProblems {
            #expect((problem.location?.line ?? 0) > 0, "\(problem) has a line")
        }
    }

    static func readerProblems(_ schema: ShippedSchema, _ yaml: String, _ document: YAMLNode) throws -> [Diagnostic] {
        switch schema {
        case .pluginEntry: return DesiredPlugin.read(document, file: "doc.yaml", expectedID: "weather").1
        case .host: return HostSpec.read(document, file: "doc.yaml", expectedName: "edge-01").1
        case .kosConfig: return KosConfig.read(document, file: "doc.yaml").1
        case .plugin, .manifest:
            var files = [
                "w/plugin.json": #"{"id": "weather", "name": "W", "version": "1.2.0", "author": "a", "license": "MIT"}"#,
                "w/manifest.yaml": "capabilities: []\n",
                "w/main.py": "", "w/ui/config.schema.json": "{}",
            ]
            files[schema == .plugin ? "w/plugin.json" : "w/manifest.yaml"] = yaml
            switch PluginPackage.read(from: MemoryTree(files), under: "w", display: "w", pluginID: "weather") {
            case .success: return []
            case let .failure(error): return error.diagnostics
            }
        }
    }

    @Test("a violation names the file, line and column of the bad value, or of an unknown key")
    func violationsPointAtTheirYAML() throws {
        let yaml = Self.entry + "source: {path: a}\nresources:\n  memory: 12Q\nverison: 2\n"
        let document = try YAMLDocument.parse(Array(yaml.utf8), file: "desired-state/plugins/weather.yaml")
        let text = ShippedSchema.pluginEntry.validate(document).map(\.description)
        #expect(text.contains { $0.hasPrefix("desired-state/plugins/weather.yaml:7:11: /resources/memory:") }, "\(text)")
        #expect(text.contains { $0.hasPrefix("desired-state/plugins/weather.yaml:8:1: /: property \"verison\" is not allowed") }, "\(text)")
    }
}
