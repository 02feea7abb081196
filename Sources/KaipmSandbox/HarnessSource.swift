/// The Python runtime harness that runs a plugin inside its sandbox.
///
/// It ships inside kaipm (here, rather than as a resource file, because resource bundles pull
/// Foundation into the module) and reaches the sandbox as a read-only copy at
/// `/kaipm/harness.py` through bubblewrap's `--ro-bind-data`; an unsandboxed plugin runs it as
/// `/proc/self/fd/4`, a read-only memfd, with `--plugin-dir` and `--data-dir` naming the real
/// store entry and data folder. It needs only Python's standard library; the protocol it speaks
/// is in `Sources/KaipmSandbox/PROTOCOL.md`.
public enum HarnessSource {
    public static let text = #"""
"""kaipm runtime harness: runs one plugin inside its sandbox.

Started by bubblewrap as `/usr/bin/python3 -I -S -B -X utf8 /kaipm/harness.py --control-fd 3`, or, for an
unsandboxed core plugin, directly as `... /proc/self/fd/4 --control-fd 3 --plugin-dir DIR --data-dir DIR`
(the defaults, /plugin and /data, are where the sandbox shows them).
Requests arrive as JSON lines on the control descriptor (a socket to the supervisor) and are
answered in order, one JSON line each; stdout and stderr go to the plugin's log. Plugin code is
ordinary Python: hooks are functions in the files the manifest names (`on_load(ctx)`,
`on_command(ctx, command, args)`, `on_unload(ctx)`, and `on_<name>(ctx[, args])` for any other).
"""
import json
import os
import sys
import time
from importlib.machinery import ModuleSpec, SourceFileLoader

# Only what every start needs is imported here (json, importlib.machinery; not importlib.util,
# which costs a third of Python's start): socket, inspect and traceback
# would add a third to Python's start-up, and the harness's start is the plugin's.

PROTOCOL_VERSION = 1
MAX_LINE = 1 << 20
PLUGIN_DIR = "/plugin"
DATA_DIR = "/data"
DEDICATED_HOOKS = ("onLoad", "onUnload", "onCommand", "onHealth")


class Context:
    """What every hook gets as `ctx`."""

    def __init__(self, plugin_id, version, config):
        self.plugin_id = plugin_id
        self.version = version
        self.config = config
        self.data_dir = DATA_DIR
        self.plugin_dir = PLUGIN_DIR

    def log(self, message):
        """One line in the plugin's console log."""
        sys.stderr.write(f"[{self.plugin_id}] {message}\n")
        sys.stderr.flush()


class HarnessError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def function_name(hook):
    """onLoad -> on_load, onConfigChange -> on_config_change."""
    return "".join("_" + c.lower() if c.isupper() else c for c in hook)


def describe(error):
    return f"{type(error).__name__}: {error}"


# The config: kaipm renders it as canonical YAML (block mappings and lists, JSON-quoted strings,
# inline JSON values), which this reads without needing PyYAML in the sandbox.

def parse_config(text):
    lines = [line.rstrip() for line in text.split("\n")]
    lines = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        return {}
    if len(lines) == 1 and not _is_key_line(lines[0].strip()):
        return _scalar(lines[0].strip())
    value, index = _block(lines, 0)
    if index != len(lines):
        raise ValueError(f"config line {index + 1} is not indented as expected: {lines[index]!r}")
    return value


def _indent(line):
    return len(line) - len(line.lstrip(" "))


def _is_key_line(text):
    if text.startswith('"'):
        try:
            _, end = json.JSONDecoder().raw_decode(text)
        except ValueError:
            return False
        return text[end:].startswith(":")
    key, colon, rest = text.partition(":")
    return bool(colon) and bool(key) and (rest == "" or rest.startswith(" ")) and not text.startswith(("{", "["))


def _key(text):
    if text.startswith('"'):
        key, end = json.JSONDecoder().raw_decode(text)
        return key, text[end + 1:].strip()
    key, _, rest = text.partition(":")
    return key, rest.strip()


def _scalar(text):
    try:
        return json.loads(text)
    except ValueError:
        pass
    special = {".inf": float("inf"), "+.inf": float("inf"), "-.inf": float("-inf"), ".nan": float("nan"), "~": None}
    if text.lower() in special:
        return special[text.lower()]
    try:
        return float(text)
    except ValueError:
        return text


def _block(lines, index):
    indent = _indent(lines[index])
    if lines[index].strip().startswith("-"):
        items = []
        while index < len(lines) and _indent(lines[index]) == indent and lines[index].strip().startswith("-"):
            items.append(_scalar(lines[index].strip()[1:].strip()))
            index += 1
        return items, index
    mapping = {}
    while index < len(lines) and _indent(lines[index]) == indent:
        key, rest = _key(lines[index].strip())
        index += 1
        if rest:
            mapping[key] = _scalar(rest)
        elif index < len(lines) and _indent(lines[index]) > indent:
            mapping[key], index = _block(lines, index)
        else:
            mapping[key] = None
    return mapping, index


class Harness:
    def __init__(self, fd):
        self.fd = fd
        self.reader = os.fdopen(fd, "rb", buffering=65536, closefd=False)
        self.started = time.monotonic()
        self.requests = 0
        self.loaded = False
        self.load_error = None
        self.hooks = {}
        self.ctx = None

    def serve(self):
        while True:
            line = self.reader.readline(MAX_LINE + 1)
            if not line:
                return 0
            if len(line) > MAX_LINE:
                self.send({"id": None, "ok": False, "error": {"code": "BadRequest", "message": "request line longer than 1 MiB"}})
                return 2
            self.requests += 1
            try:
                request = json.loads(line)
                if not isinstance(request, dict):
                    raise ValueError("a request is a JSON object")
            except ValueError as error:
                self.send({"id": None, "ok": False, "error": {"code": "BadRequest", "message": str(error)}})
                continue
            op = request.get("op")
            handler = getattr(self, "op_" + op, None) if op in ("load", "health", "command", "hook", "unload") else None
            try:
                if handler is None:
                    raise HarnessError("UnknownOp", f"unknown op {op!r}; the harness answers load, health, command, hook and unload")
                result = handler(request)
                self.send({"id": request.get("id"), "ok": True, "result": result})
            except HarnessError as error:
                self.send({"id": request.get("id"), "ok": False, "error": {"code": error.code, "message": error.message}})
            if op == "unload":
                return 0

    def send(self, message):
        try:
            text = json.dumps(message, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as error:
            text = json.dumps({"id": message.get("id"), "ok": False,
                               "error": {"code": "ResultNotJSON", "message": f"the hook returned a value JSON cannot carry: {error}"}})
        data = memoryview(text.encode("utf-8") + b"\n")
        while data:
            data = data[os.write(self.fd, data):]

    def call(self, hook, code, *args):
        function = self.hooks[hook]
        try:
            return function(self.ctx, *args)
        except Exception as error:
            import traceback
            sys.stderr.write(f"[{self.ctx.plugin_id}] {hook} failed:\n{traceback.format_exc()}")
            sys.stderr.flush()
            raise HarnessError(code, f"{hook} raised {describe(error)}") from None

    def op_load(self, request):
        if self.loaded:
            return {"loaded": True, "hooks": sorted(self.hooks)}
        if self.load_error:
            raise HarnessError("LoadFailed", self.load_error)
        plugin = request.get("plugin") or {}
        try:
            config = {}
            if request.get("config"):
                with open(request["config"], encoding="utf-8") as f:
                    config = parse_config(f.read())
            self.ctx = Context(plugin.get("id", ""), plugin.get("version"), config)
            main = plugin.get("main", "main.py")
            sys.path.insert(0, PLUGIN_DIR)
            main_dir = os.path.dirname(os.path.join(PLUGIN_DIR, main))
            if main_dir != PLUGIN_DIR:
                sys.path.insert(0, main_dir)
            self.import_file(os.path.splitext(os.path.basename(main))[0], main)
            for hook, path in sorted((plugin.get("hooks") or {}).items()):
                module = self.import_file("_kaipm_hook_" + hook, path)
                function = getattr(module, function_name(hook), None)
                if not callable(function):
                    raise HarnessError("LoadFailed", f"{path} defines no function {function_name(hook)}() for hook {hook}")
                self.hooks[hook] = function
        except HarnessError as error:
            self.load_error = error.message
            raise
        except Exception as error:
            import traceback
            sys.stderr.write(f"[{plugin.get('id', '')}] loading failed:\n{traceback.format_exc()}")
            sys.stderr.flush()
            self.load_error = f"loading the plugin raised {describe(error)}"
            raise HarnessError("LoadFailed", self.load_error) from None
        if "onLoad" in self.hooks:
            try:
                self.call("onLoad", "LoadFailed")
            except HarnessError as error:
                self.load_error = error.message
                raise
        self.loaded = True
        return {"loaded": True, "hooks": sorted(self.hooks), "python": sys.version.split()[0], "protocol": PROTOCOL_VERSION}

    def import_file(self, name, path):
        full = os.path.join(PLUGIN_DIR, path)
        loader = SourceFileLoader(name, full)
        spec = ModuleSpec(name, loader, origin=full)
        spec.has_location = True
        module = type(sys)(name)
        module.__spec__, module.__loader__, module.__file__ = spec, loader, full
        sys.modules[name] = module
        loader.exec_module(module)
        return module

    def op_health(self, request):
        if self.load_error:
            raise HarnessError("LoadFailed", self.load_error)
        answer = {"loaded": self.loaded, "uptimeMs": int((time.monotonic() - self.started) * 1000),
                  "requests": self.requests, "pid": os.getpid()}
        if self.loaded and "onHealth" in self.hooks:
            # The plugin's own check: False, or {"healthy": False, "reason": ...}, or raising, is unhealthy.
            verdict = self.call("onHealth", "Unhealthy")
            healthy = verdict.get("healthy", True) if isinstance(verdict, dict) else verdict is not False
            if not healthy:
                reason = verdict.get("reason", "onHealth said so") if isinstance(verdict, dict) else "onHealth returned False"
                raise HarnessError("Unhealthy", f"onHealth: {reason}")
            if isinstance(verdict, dict):
                answer["check"] = verdict
        return answer

    def require_loaded(self):
        if not self.loaded:
            raise HarnessError("NotLoaded", self.load_error or "the plugin is not loaded; send load first")

    def op_command(self, request):
        self.require_loaded()
        if "onCommand" not in self.hooks:
            raise HarnessError("NoSuchHook", "the plugin's manifest declares no onCommand hook")
        command = request.get("command")
        args = request.get("args") or {}
        if not isinstance(command, str) or not isinstance(args, dict):
            raise HarnessError("BadRequest", "command needs a string 'command' and an object 'args'")
        return self.call("onCommand", "CommandFailed", command, args)

    def op_hook(self, request):
        self.require_loaded()
        hook = request.get("hook")
        if hook in DEDICATED_HOOKS:
            raise HarnessError("BadRequest", f"{hook} has its own op: load, command, health or unload")
        if hook not in self.hooks:
            raise HarnessError("NoSuchHook", f"the plugin's manifest declares no hook {hook!r}")
        args = request.get("args") or {}
        code = getattr(self.hooks[hook], "__code__", None)
        takes_args = code is None or code.co_argcount >= 2
        return self.call(hook, "HookFailed", *([args] if takes_args else []))

    def op_unload(self, request):
        if self.loaded and "onUnload" in self.hooks:
            self.call("onUnload", "HookFailed")
        return {"unloaded": True}


USAGE = "usage: harness.py --control-fd FD [--plugin-dir DIR] [--data-dir DIR]\n"


def main(argv):
    global PLUGIN_DIR, DATA_DIR
    options = {"--control-fd": None, "--plugin-dir": PLUGIN_DIR, "--data-dir": DATA_DIR}
    arguments = argv[1:]
    if len(arguments) % 2 or any(name not in options for name in arguments[::2]):
        sys.stderr.write(USAGE)
        return 2
    options.update(zip(arguments[::2], arguments[1::2]))
    if options["--control-fd"] is None or not options["--control-fd"].isdigit():
        sys.stderr.write(USAGE)
        return 2
    PLUGIN_DIR, DATA_DIR = options["--plugin-dir"], options["--data-dir"]
    if argv[0].startswith("/proc/self/fd/"):
        # Run from a descriptor (unsandboxed): Python has read the source; the plugin needs none of it.
        os.close(int(argv[0][len("/proc/self/fd/"):]))
    sys.stdout.reconfigure(line_buffering=True)
    sys.dont_write_bytecode = True
    return Harness(int(options["--control-fd"])).serve()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
"""#
}
