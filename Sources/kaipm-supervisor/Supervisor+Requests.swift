import CKaipmSandboxShims
import Glibc
import KaipmSandbox

/// The control protocol (PROTOCOL.md): clients' requests, the harness's answers.
extension Supervisor {
    /// Ops the harness answers; the supervisor relays them.
    static let relayedOps: Set<String> = ["load", "health", "command", "hook", "unload"]

    /// Sends a request to the harness under a fresh id and remembers who asked.
    func relay(_ request: JSON, op: String, requester: Requester, timeoutMilliseconds: Int) {
        let id = nextRequestID
        nextRequestID += 1
        let members = (request.objectValue ?? []).filter { $0.key != "id" && $0.key != "timeoutMs" }
        pending[id] = PendingRequest(requester: requester, op: op,
                                     deadline: Supervisor.now() + Int64(timeoutMilliseconds), timeoutMilliseconds: timeoutMilliseconds)
        harness?.send(.object([JSON.Member("id", .int(id))] + members))
    }

    func acceptClients() {
        while true {
            let fd = kaipm_accept(listener)
            if fd < 0 { return }
            clients[nextClientSerial] = LineChannel(fd: fd, serial: nextClientSerial)
            nextClientSerial += 1
        }
    }

    func serviceClient(_ client: LineChannel, hungUp: Bool = false) {
        if client.wantsWrite { client.flush() }
        if !client.readEnded {
            for line in client.readLines() where !line.isEmpty {
                handleClientLine(line, from: client)
            }
        }
        if client.overflowed {
            client.send(Self.failure(id: .null, "BadRequest", "a request line is longer than 1 MiB"))
            dropClient(client)
        } else if client.broken || (hungUp && client.readEnded) {
            dropClient(client)
        } else {
            dropIfDone(client)
        }
    }

    /// Closes a client that closed its side once it has every answer it asked for.
    func dropIfDone(_ client: LineChannel) {
        guard client.readEnded, !client.wantsWrite else { return }
        let waiting = pending.values.contains { request in
            if case let .client(serial, _) = request.requester { return serial == client.serial }
            return false
        }
        if !waiting { dropClient(client) }
    }

    func dropClient(_ client: LineChannel) {
        clients[client.serial] = nil
        client.close()
    }

    private func handleClientLine(_ line: [UInt8], from client: LineChannel) {
        let request: JSON
        do {
            request = try JSON(parsing: line)
        } catch {
            client.send(Self.failure(id: .null, "BadRequest", "\(error)"))
            return
        }
        let id = request["id"] ?? .null
        guard let op = request["op"]?.stringValue else {
            client.send(Self.failure(id: id, "BadRequest", "a request is a JSON object with a string 'op'"))
            return
        }
        if op == "status" {
            client.send(.object(["id": id, "ok": .bool(true), "result": liveStatus()]))
            return
        }
        guard Supervisor.relayedOps.contains(op) else {
            client.send(Self.failure(id: id, "UnknownOp", "unknown op '\(op)'; try load, health, command, hook, unload or status"))
            return
        }
        guard let harness, !harness.readEnded, sandboxEnded == nil else {
            client.send(Self.failure(id: id, "SandboxExited", "the sandbox has ended; see the status file and the log"))
            return
        }
        if case .running = phase {} else {
            client.send(Self.failure(id: id, "Stopping", "the sandbox is stopping (\(stopReason?.reason ?? "unload"))"))
            return
        }
        var timeout = request["timeoutMs"]?.intValue ?? spec.timeouts.requestMilliseconds
        if op == "unload" {
            timeout = min(timeout, spec.timeouts.unloadMilliseconds)
            stopReason = ("Unloaded", "unloaded on request")
            status.state = .stopping
            writeStatus()
            phase = .unloading(deadline: Supervisor.now() + Int64(timeout))
            log.event("unload requested")
        }
        relay(request, op: op, requester: .client(serial: client.serial, id: id), timeoutMilliseconds: max(1, timeout))
    }

    func serviceHarness(_ channel: LineChannel) {
        if channel.wantsWrite { channel.flush() }
        for line in channel.readLines() where !line.isEmpty {
            handleHarnessLine(line)
        }
        if channel.overflowed {
            log.event("the harness sent a line longer than 1 MiB: stopping the sandbox")
            stopReason = stopReason ?? ("ProtocolViolation", "the harness broke the control protocol (a line longer than 1 MiB)")
            killSandbox(SIGKILL)
        }
        if channel.readEnded {
            channel.close()
            harness = nil
            for (id, request) in pending {
                pending[id] = nil
                answer(request, with: Self.failure(id: .null, "SandboxExited", "the sandbox ended before answering '\(request.op)'"))
            }
        }
    }

    private func handleHarnessLine(_ line: [UInt8]) {
        guard let message = try? JSON(parsing: line), let id = message["id"]?.intValue, let request = pending[id] else {
            log.event("ignored a message from the harness that answers no request: \(String(decoding: line.prefix(200), as: UTF8.self))")
            return
        }
        pending[id] = nil
        answer(request, with: message)
    }

    /// Hands an answer to whoever asked, under the id they used.
    private func answer(_ request: PendingRequest, with message: JSON) {
        switch request.requester {
        case let .client(serial, id):
            var members = (message.objectValue ?? []).filter { $0.key != "id" }
            members.insert(JSON.Member("id", id), at: 0)
            if let client = clients[serial] {
                client.send(.object(members))
                dropIfDone(client)
            }
        case .supervisor:
            supervisorAnswer(request.op, message)
        }
    }

    private func supervisorAnswer(_ op: String, _ message: JSON) {
        guard op == "load" else { return }
        if message["ok"]?.boolValue == true {
            guard settleCPU() else { return }
            status.load = .object(["ok": .bool(true), "result": message["result"]])
            writeStatus()
            log.event("loaded")
            readyReport.loaded()
        } else {
            let error = message["error"] ?? .null
            status.load = .object(["ok": .bool(false), "error": error])
            writeStatus()
            let text = error["message"]?.stringValue ?? error.text
            log.event("load failed: \(text)")
            readyReport.loadFailed(text)
            beginStop(reason: "LoadFailed", message: text)
        }
    }

    /// Lowers the CPU quota to the plugin's own once it loaded (see `SandboxResources.startupCPU`).
    /// A quota that cannot be lowered is a limit not in force: the sandbox is stopped, unless the
    /// spec allows weaker isolation.
    private func settleCPU() -> Bool {
        guard let cgroup, !cgroup.settleCPU(spec.resources) else { return true }
        let message = "could not lower the CPU quota to \(spec.resources.cpu) core after loading"
        log.event("WEAKER ISOLATION: " + message)
        guard !spec.allowWeakerIsolation else { return true }
        status.load = .object(["ok": .bool(false), "error": .object(["code": .string("IsolationNotEnforced"), "message": .string(message)])])
        writeStatus()
        readyReport.loadFailed(message)
        beginStop(reason: "IsolationNotEnforced", message: message)
        return false
    }

    func timedOut(_ request: PendingRequest) {
        let failure = Self.failure(id: .null, "Timeout", "no answer to '\(request.op)' within \(request.timeoutMilliseconds) ms")
        if case .supervisor = request.requester, request.op == "load" {
            status.load = .object(["ok": .bool(false), "error": failure["error"]])
            log.event("load did not answer within \(request.timeoutMilliseconds) ms")
            readyReport.loadFailed("onLoad did not finish within \(request.timeoutMilliseconds) ms")
            beginStop(reason: "LoadTimeout", message: "onLoad did not finish within \(request.timeoutMilliseconds) ms")
            // A harness stuck in onLoad will not answer unload either.
            killSandbox(SIGTERM)
            phase = .terminating(deadline: Supervisor.now() + Int64(spec.timeouts.killGraceMilliseconds))
            return
        }
        answer(request, with: failure)
    }

    /// What `status` answers: the status file's content, plus what the supervisor measures now.
    private func liveStatus() -> JSON {
        var members = status.json.objectValue ?? []
        members.append(JSON.Member("memoryInUseBytes", cgroup?.memoryInUse().map { .int($0) } ?? .null))
        members.append(JSON.Member("oomKills", cgroup?.oomKills().map { .int($0 - oomKillsAtStart) } ?? .null))
        members.append(JSON.Member("pidsLimitHits", cgroup?.pidsLimitHits().map { .int($0) } ?? .null))
        members.append(JSON.Member("processes", .int(cgroup?.processes().count ?? 0)))
        return .object(members)
    }

    static func failure(id: JSON, _ code: String, _ message: String) -> JSON {
        .object(["id": id, "ok": .bool(false), "error": .object(["code": .string(code), "message": .string(message)])])
    }
}
