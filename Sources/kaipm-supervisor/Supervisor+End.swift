import CKaipmSandboxShims
import Glibc
import KaipmSandbox

extension Supervisor {
    /// Records how the sandbox ended, answers whoever still waits, and removes what it made.
    func finish() {
        let ended = sandboxEnded ?? (code: -1, signal: SIGKILL)
        if let cgroup { notePidsLimit(cgroup, at: kaipm_wall_ms()) }
        let exit = classify(ended)
        log.event("sandbox ended: \(exit.reason): \(exit.message)")
        recordEnd(exit)
        readyReport.ended(exit.reason, exit.message)
        for (id, request) in pending {
            pending[id] = nil
            if case let .client(serial, clientID) = request.requester {
                clients[serial]?.send(Self.failure(id: clientID, "SandboxExited", "the sandbox ended (\(exit.reason)) before answering '\(request.op)'"))
            }
        }
        cleanUp()
    }

    /// Closes the socket and the clients (after a last flush) and removes the cgroups.
    func cleanUp() {
        for client in clients.values {
            client.flush()
            client.close()
        }
        clients.removeAll()
        if listener >= 0 {
            close(listener)
            listener = -1
            unlink(layout.socket)
        }
        harness?.close()
        harness = nil
        cgroup?.remove()
    }

    /// The end, from the supervisor's own reason, the kernel's (OOM kill, SIGXCPU) and the status.
    private func classify(_ ended: (code: Int32, signal: Int32)) -> SupervisorStatus.Exit {
        // bubblewrap exits with the sandboxed process's status, 128 + n for a signal n.
        var code: Int? = Int(ended.code)
        var signal: Int? = ended.signal != 0 ? Int(ended.signal) : nil
        if let exitCode = code, exitCode > 128, exitCode < 128 + 65, signal == nil {
            signal = exitCode - 128
            code = nil
        }
        if ended.code < 0 { code = nil }
        let now = kaipm_wall_ms()
        // Kills the sandbox outlived are limit events (Supervisor+Limits), not how it ended.
        let oomKills = (cgroup?.oomKills() ?? 0) - oomKillsAtStart - limitWatch.oomKillsSurvived
        let tail = log.tail()
        if let stop = stopReason {
            let orderly = stop.reason == "Unloaded" || stop.reason == "Stopped"
            return SupervisorStatus.Exit(reason: stop.reason, message: stop.message, code: code, signal: signal,
                                         endedAtMilliseconds: now, logTail: orderly && code == 0 ? nil : tail)
        }
        if oomKills > 0 {
            return SupervisorStatus.Exit(reason: "MemoryLimit", message: "the kernel killed the sandbox at its memory quota of \(spec.resources.memoryBytes) bytes",
                                         code: code, signal: signal, endedAtMilliseconds: now, logTail: tail)
        }
        if signal == Int(SIGXCPU) {
            return SupervisorStatus.Exit(reason: "CPULimit", message: "SIGXCPU: the sandbox used up its CPU seconds (RLIMIT_CPU; its spec allows \(spec.limits.cpuSeconds))",
                                         code: code, signal: signal, endedAtMilliseconds: now, logTail: tail)
        }
        if let signal {
            return SupervisorStatus.Exit(reason: "Killed", message: "the sandbox was killed by signal \(signal)",
                                         code: code, signal: signal, endedAtMilliseconds: now, logTail: tail)
        }
        if status.load == nil {
            return SupervisorStatus.Exit(reason: "StartFailed", message: "the sandbox exited with status \(code ?? -1) before loading the plugin",
                                         code: code, signal: nil, endedAtMilliseconds: now, logTail: tail)
        }
        if code == 0 {
            return SupervisorStatus.Exit(reason: "Exited", message: "the plugin exited by itself", code: 0,
                                         endedAtMilliseconds: now, logTail: tail)
        }
        return SupervisorStatus.Exit(reason: "Crashed", message: "the plugin exited with status \(code ?? -1)", code: code,
                                     endedAtMilliseconds: now, logTail: tail)
    }
}
