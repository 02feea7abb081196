import JSONSchema
import Testing
@testable import KaipmCore

/// Config validation in the core: layers, positions, the rule broken, secrets.
@Suite struct ConfigSchemaTests {
    static let schema = """
        {
          "$schema": "https://json-schema.org/draft/2020-12/schema",
          "type": "object",
          "additionalProperties": false,
          "required": ["endpoint"],
          "properties": {
            "endpoint": {"type": "string", "format": "hostname", "default": "api.weather.example"},
            "units": {"enum": ["metric", "imperial"], "default": "metric"},
            "refreshMinutes": {"type": "integer", "minimum": 5, "maximum": 1440, "default": 30},
            "apiKey": {"type": "string", "writeOnly": true, "pattern": "^wk-", "default": "wk-none"},
            "server": {"type": "object", "properties": {"port": {"type": "integer", "default": 8080}}}
          }
        }
        """

    func layers(file: String?, host: String? = nil, schema: String = Self.schema) throws -> ConfigLayers {
        let package = try YAMLDocument.parse(Array(schema.utf8), file: "examples/plugins/weather/ui/config.schema.json")
        let defaults = PluginPackage.schemaDefaults(package) ?? .map([:])
        let fileNode = try file.map { try YAMLDocument.parse(Array($0.utf8), file: "desired-state/config/plugins/weather.config.yaml") }
        let hostNode = try host.map {
            try YAMLDocument.parse(Array($0.utf8), file: "desired-state/hosts/edge-01.yaml").node(at: ["plugins", "weather", "config"])
        }
        return ConfigLayers(defaults: defaults, schemaFile: "examples/plugins/weather/ui/config.schema.json",
                            configFile: fileNode, configFilePath: "desired-state/config/plugins/weather.config.yaml",
                            hostOverride: hostNode ?? nil)
    }

    func problems(file: String?, host: String? = nil, schema: String = Self.schema) throws -> [String] {
        ConfigSchemaCache().check(try layers(file: file, host: host, schema: schema), schemaText: schema, plugin: "weather")
            .problems.map(\.description)
    }

    @Test("a bad value in the config file is reported at its line and column with the rule it broke")
    func badValueInConfigFile() throws {
        let text = try problems(file: "units: metric\n# refresh\nrefreshMinutes:  2000\n")
        #expect(text == ["desired-state/config/plugins/weather.config.yaml:3:18: plugin 'weather': "
                         + "/refreshMinutes: 2000 is greater than the maximum 1440 (maximum)"])
    }

    @Test("a bad value in a host override is reported in the host file, which wins over the config file")
    func badValueInHostOverride() throws {
        let host = "name: edge-01\nplugins:\n  weather:\n    config: {units: metric, refreshMinutes: 1}\n"
        let text = try problems(file: "refreshMinutes: 2000\n", host: host)
        #expect(text == ["desired-state/hosts/edge-01.yaml:4:45: plugin 'weather': /refreshMinutes: 1 is less than the minimum 5 (minimum)"])
        let unknown = try problems(file: nil, host: "plugins:\n  weather:\n    config:\n      unit: metric\n")
        #expect(unknown == ["desired-state/hosts/edge-01.yaml:4:7: plugin 'weather': /: property \"unit\" is not allowed (additionalProperties)"])
    }

    @Test("a bad default points at the schema file")
    func badDefaultPointsAtSchema() throws {
        let schema = Self.schema.replacing(#""default": 30"#, with: #""default": 3"#)
        let text = try problems(file: nil, schema: schema)
        #expect(text == ["examples/plugins/weather/ui/config.schema.json:9:85: plugin 'weather': /refreshMinutes: 3 is less than the minimum 5 (minimum)"])
    }

    @Test("a missing required key is reported at the config file")
    func missingRequiredKey() throws {
        let schema = Self.schema.replacing(#""default": "api.weather.example""#, with: #""minLength": 1"#)
        #expect(try problems(file: nil, schema: schema)
                == ["desired-state/config/plugins/weather.config.yaml: plugin 'weather': /: required property \"endpoint\" is missing (required)"])
        #expect(try problems(file: "units: metric\n", schema: schema)
                == ["desired-state/config/plugins/weather.config.yaml:1:1: plugin 'weather': /: required property \"endpoint\" is missing (required)"])
    }

    @Test("format is asserted")
    func formatIsAsserted() throws {
        let text = try problems(file: "endpoint: not a host!\n")
        #expect(text == ["desired-state/config/plugins/weather.config.yaml:1:11: plugin 'weather': /endpoint: \"not a host!\" is not a valid hostname (format)"])
    }

    @Test("an empty config file keeps the schema's defaults")
    func emptyConfigFileKeepsDefaults() throws {
        let merged = try layers(file: "").merged
        #expect(merged.value(at: ["refreshMinutes"]) == .int(30))
        #expect(merged.value(at: ["server", "port"]) == .int(8080))
    }

    @Test("a secret never appears in a message, at its own location or above it")
    func secretsAreScrubbed() throws {
        let direct = try problems(file: "apiKey: hunter2-secret\n")
        #expect(direct == ["desired-state/config/plugins/weather.config.yaml:1:9: plugin 'weather': /apiKey: (secret) does not match the pattern ^wk- (pattern)"])
        let schema = """
            {"type": "object", "properties": {"auth": {"anyOf": [
              {"type": "object", "properties": {"token": {"x-kaipm-secret": true, "enum": ["a", "b"]}}, "required": ["token"]},
              {"type": "object", "properties": {"pin": {"type": "integer", "writeOnly": true, "maximum": 9}}, "required": ["pin"]}
            ]}}}
            """
        let above = try problems(file: "auth: {token: hunter2-secret, pin: 4242}\n", schema: schema).joined(separator: "\n")
        #expect(!above.contains("hunter2") && !above.contains("4242"), "\(above)")
        #expect(above.contains("(secret)"), "\(above)")
        let long = String(repeating: "x", count: 80)
        let cut = try problems(file: "apiKey: \(long)\n").joined()
        #expect(!cut.contains("xxxx"), "\(cut)")
    }

    @Test("secret paths follow $ref, map and list item schemas")
    func secretPathsFollowReferences() throws {
        let schema: JSONValue = try JSONValue.parse("""
            {"$defs": {"secret": {"type": "string", "writeOnly": true}},
             "properties": {
               "db": {"properties": {"password": {"$ref": "#/$defs/secret"}, "user": {"type": "string"}}},
               "tokens": {"additionalProperties": {"x-kaipm-secret": true}},
               "servers": {"items": {"properties": {"key": {"writeOnly": true}}}},
               "plain": {"allOf": [{"type": "string"}]}
             }}
            """)
        let paths = ConfigSecrets.paths(in: schema)
        #expect(paths == ["db.password", "tokens.*", "servers"])
        #expect(ConfigSecrets.isSecret("db.password", in: paths))
        #expect(ConfigSecrets.isSecret("tokens.github", in: paths))
        #expect(ConfigSecrets.isSecret("servers", in: paths))
        #expect(!ConfigSecrets.isSecret("db.user", in: paths))
        #expect(!ConfigSecrets.isSecret("plain", in: paths))
        let masked = ConfigSecrets.masked(.map(["db": .map(["password": .string("pw"), "user": .string("u")])]), secrets: paths)
        #expect(masked == .map(["db": .map(["password": .string("(secret)"), "user": .string("u")])]))
        let changes = Planner.configChanges(from: nil, to: .map(["tokens": .map(["github": .string("ghp_x")])]), secrets: paths)
        #expect(changes == [FieldChange(field: "config.tokens.github", before: nil, after: "(secret)")])
    }

    @Test("each distinct schema is compiled once")
    func schemaCompiledOnce() throws {
        let cache = ConfigSchemaCache()
        for file in ["units: metric\n", "units: imperial\n", "refreshMinutes: 1\n"] {
            _ = cache.check(try layers(file: file), schemaText: Self.schema, plugin: "weather")
        }
        #expect(cache.compiledCount == 1)
        _ = cache.check(try layers(file: nil), schemaText: "{\"type\": \"object\"}", plugin: "other")
        #expect(cache.compiledCount == 2)
    }

    @Test("a schema that does not compile blocks with its position")
    func invalidSchemaIsReported() throws {
        let schema = "{\n  \"type\": \"object\",\n  \"properties\": {\"a\": {\"minimum\": \"five\"}}\n}\n"
        let text = try problems(file: nil, schema: schema)
        #expect(text.count == 1)
        #expect(text.first?.hasPrefix("examples/plugins/weather/ui/config.schema.json:3:") == true, "\(text)")
        #expect(text.first?.contains("is not a valid JSON Schema") == true, "\(text)")
    }

    @Test("config values convert to and from JSON values without text")
    func configValuesConvert() throws {
        let value = ConfigValue.map(["a": .list([.int(1), .number("2.5"), .string("x"), .bool(true), .null]),
                                     "b": .map(["c": .number("1e3")])])
        let json = value.jsonValue
        #expect(json == ["a": [1, 2.5, "x", true, nil], "b": ["c": 1000]])
        #expect(ConfigValue(json: json) == .map(["a": .list([.int(1), .number("2.5"), .string("x"), .bool(true), .null]),
                                                  "b": .map(["c": .int(1000)])]))
        for (text, expected) in [("1.", JSONValue(1)), (".5", JSONValue(0.5)), ("+2e3", JSONValue(2000)), ("-1.5e-1", JSONValue(-0.15))] {
            #expect(ConfigValue.number(text).jsonValue == expected, "\(text)")
        }
        #expect(ConfigValue.number(".inf").jsonValue == .string(".inf"))
    }

    @Test("config show lists each leaf with the layer it came from")
    func entriesCarryOrigins() throws {
        let host = "plugins:\n  weather:\n    config:\n      refreshMinutes: 15\n"
        let layers = try layers(file: "units: imperial\nserver: {port: 9090}\n", host: host)
        let schemaNode = try YAMLDocument.parse(Array(Self.schema.utf8), file: "")
        let entries = layers.entries(schema: schemaNode)
        let shown = entries.map { "\($0.path)=\($0.value.inlineText) \($0.origin)" }
        #expect(shown == [
            "apiKey=\"wk-none\" schema default examples/plugins/weather/ui/config.schema.json:10:83",
            "endpoint=\"api.weather.example\" schema default examples/plugins/weather/ui/config.schema.json:7:69",
            "refreshMinutes=15 host override desired-state/hosts/edge-01.yaml:4:23",
            "server.port=9090 config file desired-state/config/plugins/weather.config.yaml:2:16",
            "units=\"imperial\" config file desired-state/config/plugins/weather.config.yaml:1:8",
        ])
    }
}
