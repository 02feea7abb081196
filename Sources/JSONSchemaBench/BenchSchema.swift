/// The realistic plugin-configuration schema used by both benchmarks.
enum BenchSchema {
    static let text = #"""
    {
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      "$id": "https://kaipm.dev/schemas/plugin-config.json",
      "title": "Plugin configuration",
      "type": "object",
      "required": ["name", "version", "enabled", "refreshMinutes", "owner", "endpoints"],
      "additionalProperties": false,
      "properties": {
        "name": {"$ref": "#/$defs/identifier"},
        "version": {"type": "string", "pattern": "^(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)\\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$"},
        "enabled": {"type": "boolean"},
        "refreshMinutes": {"type": "integer", "minimum": 1, "maximum": 1440},
        "ratio": {"type": "number", "exclusiveMinimum": 0, "maximum": 1, "multipleOf": 0.01},
        "owner": {
          "type": "object",
          "required": ["email"],
          "additionalProperties": false,
          "properties": {
            "email": {"type": "string", "format": "email"},
            "name": {"type": "string", "minLength": 1, "maxLength": 80}
          }
        },
        "homepage": {"type": "string", "format": "uri"},
        "created": {"type": "string", "format": "date-time"},
        "id": {"type": "string", "format": "uuid"},
        "tags": {"type": "array", "items": {"$ref": "#/$defs/identifier"}, "uniqueItems": true, "maxItems": 16},
        "endpoints": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/endpoint"}},
        "settings": {
          "type": "object",
          "propertyNames": {"pattern": "^[a-z][a-zA-Z0-9]*$"},
          "additionalProperties": {"type": ["string", "number", "boolean"]}
        },
        "mode": {"enum": ["fast", "safe", "debug"]},
        "retry": {
          "type": "object",
          "required": ["attempts"],
          "properties": {
            "attempts": {"type": "integer", "minimum": 0, "maximum": 10},
            "backoff": {"enum": ["linear", "exponential"]},
            "delaySeconds": {"type": "number", "minimum": 0}
          },
          "dependentRequired": {"backoff": ["delaySeconds"]}
        }
      },
      "allOf": [
        {
          "if": {"properties": {"mode": {"const": "debug"}}, "required": ["mode"]},
          "then": {"properties": {"refreshMinutes": {"maximum": 60}}}
        }
      ],
      "$defs": {
        "identifier": {"type": "string", "pattern": "^[a-z][a-z0-9-]{1,62}$"},
        "endpoint": {
          "type": "object",
          "required": ["host", "port"],
          "additionalProperties": false,
          "properties": {
            "host": {"type": "string", "format": "hostname"},
            "address": {"type": "string", "format": "ipv4"},
            "port": {"type": "integer", "minimum": 1, "maximum": 65535},
            "tls": {"type": "boolean"},
            "paths": {"type": "array", "items": {"type": "string", "pattern": "^/"}}
          }
        }
      }
    }
    """#
}
