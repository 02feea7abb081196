/// Pieces shared by several shipped schemas, written once so that they cannot drift apart.
///
/// They mirror the typed readers: `MappingReader.string` takes a number as its text and reads
/// `null` as absent, so optional keys accept `null` and text accepts numbers, exactly as the
/// readers do.
enum SchemaFragments {
    static let apiVersion = #"{"description": "The format of this file. Optional; when given it must be kaipm/v1.", "enum": ["kaipm/v1", null]}"#

    static func kind(_ name: String) -> String {
        #"{"description": "What this file is. Optional; when given it must be \#(name).", "enum": ["\#(name)", null]}"#
    }

    /// A scalar read as text (numbers are taken as written), or null for absent.
    static let optionalText = #"{"type": ["string", "number", "null"]}"#
    /// A required scalar read as text.
    static let text = #"{"type": ["string", "number"]}"#
    static let optionalBool = #"{"type": ["boolean", "null"]}"#

    /// A list of scalars read as text; null entries are skipped.
    static func textList(_ description: String) -> String {
        #"{"description": "\#(description)", "type": ["array", "null"], "items": {"type": ["string", "number", "null"]}}"#
    }

    /// Plugin ids: lowercase letters, digits and dashes, starting with a letter, at most 64 long.
    static let idPattern = #"^[a-z][a-z0-9-]{0,63}$"#

    /// Semantic versions as `SemanticVersion` parses them (no leading `v`, no leading zeros in the core).
    static let semverPattern = #"^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?(\\+[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?$"#

    /// Host labels and selector labels: names to scalars.
    static let labels = #"{"description": "Label names to values.", "type": ["object", "null"], "additionalProperties": {"type": ["string", "number", "null"]}}"#

    /// `Grants.read`: network endpoints and host paths, as entries grant them and manifests request them.
    static let grants = #"""
        {
          "description": "What the plugin may reach beyond its sandbox.",
          "type": ["object", "null"],
          "additionalProperties": false,
          "properties": {
            "network": {
              "description": "host:port endpoints; any entry turns the network on.",
              "type": ["array", "null"],
              "items": {"type": ["string", "null"], "pattern": ":"}
            },
            "filesystem": {
              "description": "Host paths made visible in the sandbox.",
              "type": "array",
              "items": {
                "type": "object",
                "additionalProperties": false,
                "required": ["path"],
                "properties": {
                  "path": {
                    "description": "An absolute path without . or .. components; /, /proc, /sys, /dev and kaipm's own state are never granted.",
                    "type": "string",
                    "pattern": "^/",
                    "not": {"pattern": "^/+$|^/+(proc|sys|dev|kos/+(db|plugins|etc|run|data))(/|$)|(^|/)\\.{1,2}(/|$)"}
                  },
                  "mode": {"description": "ro (the default) or rw.", "enum": ["ro", "rw", null]}
                }
              }
            }
          }
        }
        """#

    /// `Resources.read`: memory as a quantity, CPU in cores, a process count.
    static let resources = #"""
        {
          "description": "Sandbox quotas.",
          "type": ["object", "null"],
          "additionalProperties": false,
          "properties": {
            "memory": {
              "description": "A size like 128Mi, 1Gi or 500M, or bytes.",
              "anyOf": [
                {"type": "string", "pattern": "^\\+?0*[1-9][0-9]*(Ki|Mi|Gi|Ti|K|M|G|k)?$"},
                {"type": "integer", "minimum": 1},
                {"type": "null"}
              ]
            },
            "cpu": {"description": "A share in cores, like 0.25.", "type": "number", "exclusiveMinimum": 0},
            "pids": {"description": "The most processes and threads.", "type": ["integer", "null"], "minimum": 1}
          }
        }
        """#
}
