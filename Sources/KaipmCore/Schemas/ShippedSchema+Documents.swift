/// The JSON text of each shipped schema, before pretty-printing. Each is self-contained (an
/// editor loads one file), written to accept exactly what the typed reader of that file accepts;
/// what only a whole tree can tell (an id that matches the file name, a dependency that exists,
/// an entry point that is in the plugin) is left to the readers.
extension ShippedSchema {
    var source: String {
        let f = SchemaFragments.self
        switch self {
        case .pluginEntry:
            return #"""
                {
                  "$schema": "https://json-schema.org/draft/2020-12/schema",
                  "title": "kaipm plugin entry",
                  "description": "desired-state/plugins/<id>.yaml: one desired plugin. Read by DesiredPlugin.read.",
                  "type": "object",
                  "additionalProperties": false,
                  "required": ["id", "version", "source"],
                  "properties": {
                    "apiVersion": \#(f.apiVersion),
                    "kind": \#(f.kind("Plugin")),
                    "id": {"description": "The plugin id: the file name without .yaml, and plugin.json's id.", "type": "string", "pattern": "\#(f.idPattern)"},
                    "version": {"description": "The semantic version plugin.json must have, like 1.2.0.", "type": "string", "pattern": "\#(f.semverPattern)"},
                    "source": {
                      "description": "Where the plugin's files come from: exactly one of path, dir, git or zip.",
                      "type": "object",
                      "additionalProperties": false,
                      "properties": {
                        "path": {
                          "description": "A repository-relative folder, read at the same git revision.",
                          "type": ["string", "number", "null"],
                          "minLength": 1,
                          "not": {"type": "string", "pattern": "^/|(^|/)\\.\\.(/|$)"}
                        },
                        "dir": {
                          "description": "An absolute folder on the host, without . or .. components; needs a checksum pin.",
                          "type": ["string", "null"],
                          "pattern": "^/",
                          "not": {"type": "string", "pattern": "(^|/)\\.{1,2}(/|$)"}
                        },
                        "git": {
                          "description": "A git repository at a tag or commit; needs a checksum pin.",
                          "type": ["object", "null"],
                          "additionalProperties": false,
                          "required": ["url"],
                          "properties": {
                            "url": \#(f.text),
                            "tag": \#(f.optionalText),
                            "commit": \#(f.optionalText),
                            "subdir": \#(f.optionalText)
                          }
                        },
                        "zip": {
                          "description": "A zip archive at a URL or path; needs a checksum pin.",
                          "type": ["object", "null"],
                          "additionalProperties": false,
                          "required": ["url"],
                          "properties": {"url": \#(f.text)}
                        }
                      },
                      "oneOf": [
                        {"required": ["path"], "properties": {"path": {"type": ["string", "number"]}}},
                        {"required": ["dir"], "properties": {"dir": {"type": "string"}}},
                        {"required": ["git"], "properties": {"git": {"type": "object"}}},
                        {"required": ["zip"], "properties": {"zip": {"type": "object"}}}
                      ]
                    },
                    "checksum": {
                      "description": "The h1: tree hash of the plugin folder ('kaipm hash DIR'); required for dir, git and zip sources.",
                      "type": ["string", "null"],
                      "pattern": "^h1:[A-Za-z0-9+/]{43}=$"
                    },
                    "active": {"description": "Whether the plugin runs (default true).", "type": ["boolean", "null"]},
                    "suspend": {"description": "true: the reconciler leaves the plugin exactly as it is.", "type": ["boolean", "null"]},
                    "sandbox": {"description": "false only for core plugins preloaded in kos.config.yaml whose plugin.json says \"sandbox\": false too: they run without bubblewrap (own uid, quotas and seccomp still hold).", "type": ["boolean", "null"]},
                    "dependsOn": {
                      "description": "Plugin ids that must be desired, valid and active too; they are installed first.",
                      "type": ["array", "null"],
                      "items": {"type": ["string", "null"], "pattern": "\#(f.idPattern)"}
                    },
                    "grants": \#(f.grants),
                    "resources": \#(f.resources),
                    "users": {
                      "description": "Which end users may enable the plugin.",
                      "type": ["object", "null"],
                      "additionalProperties": false,
                      "properties": {
                        "allow": \#(f.textList("User ids, or * for everyone.")),
                        "enabledByDefault": \#(f.optionalBool)
                      }
                    },
                    "hosts": {
                      "description": "Which hosts run the plugin: every label must match, and the host must be listed if names are.",
                      "type": ["object", "null"],
                      "additionalProperties": false,
                      "properties": {
                        "labels": \#(f.labels),
                        "names": \#(f.textList("Host names."))
                      }
                    }
                  },
                  "if": {"properties": {"source": {"required": ["path"], "properties": {"path": {"type": ["string", "number"]}}}}},
                  "else": {"required": ["checksum"], "properties": {"checksum": {"type": "string"}}}
                }
                """#
        case .host:
            return #"""
                {
                  "$schema": "https://json-schema.org/draft/2020-12/schema",
                  "title": "kaipm host",
                  "description": "desired-state/hosts/<hostname>.yaml: a host's labels and per-host overrides. Read by HostSpec.read.",
                  "type": "object",
                  "additionalProperties": false,
                  "properties": {
                    "apiVersion": \#(f.apiVersion),
                    "kind": \#(f.kind("Host")),
                    "name": {"description": "The host name: the file name without .yaml.", "type": ["string", "number", "null"]},
                    "labels": \#(f.labels),
                    "plugins": {
                      "description": "Overrides by plugin id.",
                      "type": ["object", "null"],
                      "additionalProperties": {
                        "type": "object",
                        "additionalProperties": false,
                        "properties": {
                          "active": {"description": "Overrides the entry's active.", "type": ["boolean", "null"]},
                          "config": {
                            "description": "Laid over config/plugins/<id>.config.yaml key by key, then checked against the plugin's ui/config.schema.json.",
                            "type": ["object", "null"]
                          }
                        }
                      }
                    }
                  }
                }
                """#
        case .kosConfig:
            return #"""
                {
                  "$schema": "https://json-schema.org/draft/2020-12/schema",
                  "title": "kaipm fleet settings",
                  "description": "desired-state/kos.config.yaml: settings for every host. Every key is optional. Read by KosConfig.read.",
                  "type": ["object", "null"],
                  "additionalProperties": false,
                  "properties": {
                    "apiVersion": \#(f.apiVersion),
                    "kind": \#(f.kind("KosConfig")),
                    "preload": \#(f.textList("Core plugins every host runs, whatever the selectors say.")),
                    "allowedSources": {
                      "description": "Which sources plugins may come from.",
                      "type": ["object", "null"],
                      "additionalProperties": false,
                      "properties": {
                        "paths": \#(f.textList("Repository-relative prefixes for path: sources (default: any).")),
                        "dirs": \#(f.textList("Host folders for dir: sources (default: none).")),
                        "git": \#(f.textList("URL prefixes for git: sources.")),
                        "zip": \#(f.textList("URL prefixes for zip: sources."))
                      }
                    },
                    "defaults": {
                      "type": ["object", "null"],
                      "additionalProperties": false,
                      "properties": {"resources": \#(f.resources)}
                    },
                    "trustedPublisherKeys": {
                      "description": "Keys trusted to sign plugin manifests.",
                      "type": ["array", "null"],
                      "items": {
                        "type": "object",
                        "additionalProperties": false,
                        "required": ["id", "ed25519"],
                        "properties": {
                          "id": \#(f.text),
                          "ed25519": {"description": "The base64 Ed25519 public key (32 bytes).", "type": "string", "pattern": "^[A-Za-z0-9+/]{43}=$"}
                        }
                      }
                    },
                    "reconcileInterval": {
                      "description": "Time between reconciles: 90s, 5m, 1h, or seconds.",
                      "anyOf": [
                        {"type": "string", "pattern": "^\\+?0*[1-9][0-9]*[smh]?$"},
                        {"type": "integer", "minimum": 1}
                      ]
                    },
                    "isolation": {
                      "type": ["object", "null"],
                      "additionalProperties": false,
                      "properties": {
                        "allowWeaker": {"description": "Run plugins when a quota cannot be enforced on a host.", "type": ["boolean", "null"]}
                      }
                    }
                  }
                }
                """#
        case .plugin:
            return #"""
                {
                  "$schema": "https://json-schema.org/draft/2020-12/schema",
                  "title": "kaipm plugin.json",
                  "description": "A plugin's metadata. Read by PluginPackage.read.",
                  "type": "object",
                  "additionalProperties": false,
                  "required": ["id", "name", "version", "author", "license"],
                  "properties": {
                    "id": {"description": "The plugin id, the same as its desired-state entry's.", "type": ["string", "number"]},
                    "name": {"description": "A display name.", "type": ["string", "number"]},
                    "version": {"description": "A semantic version like 1.2.0.", "type": "string", "pattern": "\#(f.semverPattern)"},
                    "author": {"description": "Who wrote it.", "type": ["string", "number"]},
                    "license": {"description": "An SPDX license id.", "type": ["string", "number"]},
                    "sandbox": {"description": "Whether the plugin expects to run sandboxed (default true); false lets a preloaded core plugin whose desired entry says so too run without bubblewrap.", "type": ["boolean", "null"]},
                    "description": \#(f.optionalText),
                    "homepage": {"description": "The plugin's web page (not checked)."},
                    "keywords": \#(f.textList("Search keywords."))
                  }
                }
                """#
        case .manifest:
            return #"""
                {
                  "$schema": "https://json-schema.org/draft/2020-12/schema",
                  "title": "kaipm plugin manifest",
                  "description": "A plugin's manifest.yaml: what it provides and the most it may be granted. Read by PluginPackage.read.",
                  "type": "object",
                  "additionalProperties": false,
                  "properties": {
                    "apiVersion": \#(f.apiVersion),
                    "kind": \#(f.kind("PluginManifest")),
                    "capabilities": \#(f.textList("What the plugin provides.")),
                    "permissions": \#(f.grants),
                    "entryPoints": {
                      "type": ["object", "null"],
                      "additionalProperties": false,
                      "properties": {
                        "main": {"description": "The Python entry point (default main.py).", "type": ["string", "number", "null"]},
                        "hooks": {
                          "description": "Hook name to file, relative to the plugin root.",
                          "type": ["object", "null"],
                          "additionalProperties": false,
                          "properties": {
                            "onLoad": \#(f.optionalText),
                            "onUnload": \#(f.optionalText),
                            "onCommand": \#(f.optionalText),
                            "onConfigChange": \#(f.optionalText),
                            "onHealth": \#(f.optionalText)
                          }
                        }
                      }
                    },
                    "extensionPoints": \#(f.textList("Extension points the plugin plugs into.")),
                    "commands": \#(f.textList("Commands onCommand answers."))
                  }
                }
                """#
        }
    }
}
