import CKaipmSandboxShims
import Glibc
import KaipmSandbox

extension Supervisor {
    /// Takes the plugin's lock, prepares the host, starts bubblewrap and sends the harness `load`.
    func start() throws(SandboxError) {
        try takeLock()
        writeStatus()
        let signalList = [SIGCHLD, SIGTERM, SIGINT, SIGHUP]
        signals = signalList.withUnsafeBufferPointer { kaipm_signalfd($0.baseAddress, Int32($0.count)) }
        guard signals >= 0 else { throw .system(operation: "signalfd", path: nil, code: errno) }
        signal(SIGPIPE, SIG_IGN)

        let prepared = try SandboxPreparation.prepare(spec)
        cgroup = prepared.cgroup
        oomKillsAtStart = prepared.cgroup.oomKills() ?? 0
        status.isolation = prepared.report
        status.cgroups = prepared.cgroup.directories
        for item in prepared.report.items where !item.enforced {
            log.event(item.waived ? "UNSANDBOXED (sandbox: false in the desired state): \(item.limit): \(item.detail)"
                                  : "WEAKER ISOLATION (allowed by the spec): \(item.limit) is not enforced: \(item.detail)")
        }

        listener = kaipm_unix_listen(layout.socket, 16)
        guard listener >= 0 else { throw .system(operation: "listen on", path: layout.socket, code: errno) }

        var childFDs = [Int32]()
        defer { childFDs.forEach { if $0 >= 0 { close($0) } } }
        let seccomp = try SeccompFilter().exportProgram()
        childFDs.append(seccomp)
        let harnessSource = try memoryFile("kaipm-harness", HarnessSource.text)
        childFDs.append(harnessSource)
        var config: Int32 = -1
        if let file = prepared.spec.configFile {
            config = open(file, O_RDONLY | O_CLOEXEC)
            guard config >= 0 else { throw .system(operation: "open", path: file, code: errno) }
            childFDs.append(config)
        }
        var pair: [Int32] = [-1, -1]
        guard kaipm_socketpair(&pair) == 0 else { throw .system(operation: "socketpair", path: nil, code: errno) }
        childFDs.append(pair[1])
        guard kaipm_set_nonblocking(pair[0]) == 0 else { throw .system(operation: "fcntl O_NONBLOCK", path: nil, code: errno) }
        harness = LineChannel(fd: pair[0])
        var output: [Int32] = [-1, -1]
        guard kaipm_pipe(&output, O_CLOEXEC | O_NONBLOCK) == 0 else { throw .system(operation: "pipe", path: nil, code: errno) }
        console = output[0]
        childFDs.append(output[1])

        if !prepared.spec.sandboxed {
            sandboxPID = try launchUnsandboxed(prepared, console: output[1], control: pair[1], seccomp: seccomp, config: config)
        } else {
            let descriptors = BubblewrapCommand.Descriptors(control: 3, seccomp: 4, config: config >= 0 ? 5 : nil, harness: 6)
            let command = BubblewrapCommand(spec: prepared.spec, grants: prepared.grants, descriptors: descriptors,
                                            system: HostSystemLayout.detect())
            // Child descriptors: 0 /dev/null, 1 and 2 the console pipe, 3 control, 4 seccomp, 5 config, 6 harness.
            sandboxPID = try SandboxProcess.launch(
                arguments: command.arguments, descriptors: [-1, output[1], output[1], pair[1], seccomp, config, harnessSource],
                cgroupProcsFiles: prepared.cgroup.procsFiles, limits: prepared.limits, identity: prepared.spec.identity)
        }
        status.sandboxPID = sandboxPID
        status.state = .running
        writeStatus()
        log.event("started \(spec.sandboxed ? "sandbox" : "UNSANDBOXED plugin") pid \(sandboxPID) for \(spec.pluginID)\(spec.version.map { " " + $0 } ?? "")")

        var load: [JSON.Member] = [
            JSON.Member("op", .string("load")),
            JSON.Member("plugin", .object([
                "id": .string(spec.pluginID), "version": spec.version.map { .string($0) },
                "main": .string(spec.entryPoints.main),
                "hooks": .object(spec.entryPoints.hooks.sorted { $0.key < $1.key }.map { JSON.Member($0.key, .string($0.value)) }),
            ])),
        ]
        if config >= 0 {
            let path = prepared.spec.sandboxed ? BubblewrapCommand.configPath : UnsandboxedCommand(spec: prepared.spec).configPath
            load.append(JSON.Member("config", .string(path ?? BubblewrapCommand.configPath)))
        }
        relay(.object(load), op: "load", requester: .supervisor, timeoutMilliseconds: spec.timeouts.loadMilliseconds)
    }

    private func takeLock() throws(SandboxError) {
        let fd = open(layout.lockFile, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .system(operation: "open", path: layout.lockFile, code: errno) }
        guard kaipm_try_lock(fd) == 0 else {
            let code = errno
            close(fd)
            if code == EAGAIN || code == EACCES {
                throw .launchFailed(plugin: spec.pluginID, reason: "another supervisor already runs this plugin (it holds \(layout.lockFile))")
            }
            throw .system(operation: "lock", path: layout.lockFile, code: code)
        }
        // Kept open (and locked) until the process ends.
        holdsLock = true
        _ = ftruncate(fd, 0)
        Posix.writeAll(fd, Array("\(getpid())\n".utf8))
    }

    private func memoryFile(_ name: String, _ text: String) throws(SandboxError) -> Int32 {
        let fd = kaipm_memfd(name)
        guard fd >= 0 else { throw .system(operation: "memfd_create", path: nil, code: errno) }
        guard Posix.writeAll(fd, Array(text.utf8)), lseek(fd, 0, SEEK_SET) == 0 else {
            let code = errno
            close(fd)
            throw .system(operation: "write", path: "memfd:\(name)", code: code)
        }
        return fd
    }
}
