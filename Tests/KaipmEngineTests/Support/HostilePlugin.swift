/// The plugins of the isolation-violation tests: `hostile` tries, on request, each thing a plugin
/// must not be able to do and lets the error it meets propagate (so that `kaipm run` audits it);
/// `neighbour` is a well-behaved plugin that must not notice.
enum HostilePlugin {
    static let id = "hostile"
    static let neighbour = "neighbour"

    /// Files of a plugin whose manifest has `permissions` and the onLoad/onCommand hooks given.
    static func files(id: String, permissions: String, onLoad: String?, onCommand: String) -> [String: String] {
        var hooks = "    onCommand: hooks/onCommand.py\n"
        var files = [
            "plugin.json": """
                {"id": "\(id)", "name": "\(id)", "version": "1.0.0", "author": "kaipm tests <t@kaipm.invalid>", "license": "MIT", "sandbox": true}

                """,
            "main.py": "\"\"\"\(id): a plugin of the isolation-violation tests.\"\"\"\n",
            "ui/config.schema.json": #"{"type": "object", "properties": {}}"# + "\n",
            "hooks/onCommand.py": onCommand,
        ]
        if let onLoad {
            files["hooks/onLoad.py"] = onLoad
            hooks = "    onLoad: hooks/onLoad.py\n" + hooks
        }
        files["manifest.yaml"] = """
            apiVersion: kaipm/v1
            kind: PluginManifest
            capabilities: []
            permissions: \(permissions)
            entryPoints:
              main: main.py
              hooks:
            \(hooks)
            """
        return files
    }

    /// `hostile`: asks for /etc read-only (so that /etc/shadow is there to be refused), nothing else.
    static var hostileFiles: [String: String] {
        files(id: id, permissions: "{filesystem: [{path: /etc, mode: ro}]}", onLoad: nil, onCommand: hostileOnCommand)
    }

    static var neighbourFiles: [String: String] {
        files(id: neighbour, permissions: "{}", onLoad: """
            def on_load(ctx):
                with open("/data/state.txt", "w") as f:
                    f.write("neighbour's own state")
            """, onCommand: """
            def on_command(ctx, command, args):
                if command == "ping":
                    with open("/data/state.txt") as f:
                        return {"pong": True, "state": f.read()}
                raise ValueError(f"unknown command {command!r}")
            """)
    }

    static let hostileOnCommand = #"""
import ctypes
import fcntl
import os
import resource
import socket
import termios
import time

LIBC = ctypes.CDLL(None, use_errno=True)
PTRACE = {"traceme": 0, "attach": 16}


def checked(result, what):
    if result == -1:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")
    return result


def fork_bomb():
    children = []
    try:
        while len(children) < 500:
            pid = os.fork()
            if pid == 0:
                time.sleep(30)
                os._exit(0)
            children.append(pid)
    except OSError as error:
        raise OSError(error.errno, f"fork refused after {len(children)} children: {error.strerror}") from None
    finally:
        for pid in children:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
    return {"forked": len(children)}


def tiocsti():
    try:
        _, fd = os.openpty()
    except OSError:
        fd = 1
    fcntl.ioctl(fd, termios.TIOCSTI, b"x")
    return {"injected": True}


def on_command(ctx, command, args):
    if command == "read":
        with open(args["path"], "rb") as f:
            return {"read": len(f.read(16))}
    if command == "write":
        with open(args["path"], "a") as f:
            f.write("x")
        return {"written": args["path"]}
    if command == "connect":
        with socket.create_connection((args["host"], args["port"]), timeout=2):
            return {"connected": True}
    if command == "ptrace":
        return {"ptrace": checked(LIBC.ptrace(PTRACE[args["request"]], args.get("pid", 0), 0, 0), f"ptrace({args['request']})")}
    if command == "tiocsti":
        return tiocsti()
    if command == "forkbomb":
        return fork_bomb()
    if command == "alloc":
        block = bytearray(b"\x01") * (args["mib"] << 20)
        return {"allocated": len(block)}
    if command == "allocChild":
        pid = os.fork()
        if pid == 0:
            block = bytearray(b"\x01") * (args["mib"] << 20)
            os._exit(len(block) & 1)
        _, status = os.waitpid(pid, 0)
        return {"signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None}
    if command == "spin":
        # RLIMIT_CPU a second above what it used so far (a plugin may lower its own soft limit), then spin.
        used = resource.getrusage(resource.RUSAGE_SELF)
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        resource.setrlimit(resource.RLIMIT_CPU, (int(used.ru_utime + used.ru_stime) + 1, hard))
        while True:
            pass
    if command == "sleep":
        time.sleep(args["seconds"])
        return {"slept": args["seconds"]}
    raise ValueError(f"unknown command {command!r}")
"""#
}
