/// The plugin the sandbox tests run: each command probes one wall of the sandbox and reports
/// exactly what happened (a result, or the errno), so that a test can assert the outcome.
enum ProbePlugin {
    static let hooks = ["onLoad": "hooks/onLoad.py", "onCommand": "hooks/onCommand.py", "onUnload": "hooks/onUnload.py"]

    static let files: [String: String] = [
        "plugin.json": #"{"id": "probe", "name": "Probe", "version": "1.0.0", "sandbox": true}"#,
        "main.py": """
            \"\"\"probe: tries what a plugin must not be able to do, and reports errno values.\"\"\"
            STATE = {"commands": 0}
            """,
        "hooks/onLoad.py": """
            def on_load(ctx):
                print("probe: hello from onLoad", flush=True)
                ctx.log(f"loaded with greeting {ctx.config.get('greeting')!r}")
            """,
        "hooks/onUnload.py": """
            def on_unload(ctx):
                print("probe: goodbye from onUnload", flush=True)
            """,
        "hooks/onCommand.py": onCommand,
    ]

    static let onCommand = #"""
import ctypes
import errno
import fcntl
import os
import resource
import socket
import termios
import time

import main

LIBC = ctypes.CDLL(None, use_errno=True)
# x86_64 system call numbers.
SYSCALLS = {
    "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "bpf": 321, "keyctl": 250,
    "add_key": 248, "request_key": 249, "mount": 165, "umount2": 166, "pivot_root": 155,
    "move_mount": 429, "open_tree": 428, "fsopen": 430, "fsmount": 432, "kexec_load": 246,
    "kexec_file_load": 320, "perf_event_open": 298, "userfaultfd": 323, "unshare": 272, "setns": 308,
    "init_module": 175, "io_uring_setup": 425, "chroot": 161,
}


def attempt(action):
    try:
        action()
        return {"ok": True}
    except OSError as error:
        return {"ok": False, "errno": error.errno}


def on_command(ctx, command, args):
    main.STATE["commands"] += 1
    if command == "echo":
        return {"args": args, "config": ctx.config, "uid": os.getuid(), "gid": os.getgid(), "cwd": os.getcwd()}
    if command == "read":
        return attempt(lambda: open(args["path"], "rb").read(16))
    if command == "write":
        def write():
            with open(args["path"], "a") as f:
                f.write("x")
        return attempt(write)
    if command == "listdir":
        return attempt(lambda: os.listdir(args["path"]))
    if command == "connect":
        def connect():
            with socket.create_connection((args["host"], args["port"]), timeout=2):
                pass
        return attempt(connect)
    if command == "alloc":
        block = bytearray(b"\x01") * (args["mib"] << 20)
        return {"allocated": len(block)}
    if command == "allocChild":
        # A child allocates; the OOM killer takes it (the biggest process), and the harness lives on.
        pid = os.fork()
        if pid == 0:
            block = bytearray(b"\x01") * (args["mib"] << 20)
            os._exit(len(block) & 1)
        _, status = os.waitpid(pid, 0)
        return {"signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None}
    if command == "exit":
        os._exit(args.get("code", 3))
    if command == "forkbomb":
        children, failure = [], None
        for _ in range(args.get("max", 500)):
            try:
                pid = os.fork()
            except OSError as error:
                failure = error.errno
                break
            if pid == 0:
                time.sleep(30)
                os._exit(0)
            children.append(pid)
        for pid in children:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        return {"forked": len(children), "errno": failure}
    if command == "spin":
        start, cpu = time.monotonic(), time.process_time()
        while time.monotonic() - start < args["seconds"]:
            pass
        return {"wall": time.monotonic() - start, "cpu": time.process_time() - cpu}
    if command == "syscalls":
        results = {}
        for name in args.get("names", sorted(SYSCALLS)):
            ctypes.set_errno(0)
            result = LIBC.syscall(SYSCALLS[name], 0, 0, 0, 0, 0, 0)
            results[name] = 0 if result >= 0 else ctypes.get_errno()
        return results
    if command == "tiocsti":
        return attempt(lambda: fcntl.ioctl(1, termios.TIOCSTI, b"x"))
    if command == "print":
        for _ in range(args.get("times", 1)):
            print(args["text"], flush=True)
        return {"printed": args.get("times", 1)}
    if command == "fds":
        open_fds = []
        for fd in range(3, 64):
            try:
                os.fstat(fd)
                open_fds.append(fd)
            except OSError:
                pass
        return {"open": open_fds}
    if command == "imports":
        import sys
        return {"path": sys.path, "site": "site" in sys.modules, "sitecustomize": "sitecustomize" in sys.modules}
    if command == "process":
        # What the process is and may do, for the unsandboxed tests (in a sandbox, /proc is absent).
        limits = {name: list(resource.getrlimit(getattr(resource, "RLIMIT_" + name)))
                  for name in ("AS", "CPU", "FSIZE", "NOFILE", "CORE")}
        proc_status = {}
        try:
            with open("/proc/self/status") as f:
                proc_status = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
        except OSError:
            pass
        pids = sorted(int(name) for name in os.listdir("/proc") if name.isdigit()) if os.path.isdir("/proc") else None
        return {"uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups(), "pid": os.getpid(),
                "sid": os.getsid(0), "cwd": os.getcwd(), "env": dict(os.environ), "pluginDir": ctx.plugin_dir,
                "dataDir": ctx.data_dir, "mainFile": main.__file__, "rlimits": limits, "pids": pids,
                "noNewPrivs": proc_status.get("NoNewPrivs"), "seccomp": proc_status.get("Seccomp"),
                "config": ctx.config}
    if command == "fail":
        raise ValueError("asked to fail")
    if command == "commands":
        return main.STATE
    raise ValueError(f"unknown command {command!r}")
"""#
}
