import Foundation
import KaipmSandbox
import Testing

/// The control socket as any client (`socat`, `nc -U`, a script) sees it: JSON lines in, JSON lines out.
@Suite("Control protocol")
struct ControlProtocolTests {
    /// Writes `text` to the socket, closes the writing side, and reads every answer line until the supervisor closes.
    static func converse(_ socket: String, _ text: String) throws -> [JSON] {
        let fd = Darwinless.connect(socket)
        guard fd >= 0 else { throw POSIXError(.ECONNREFUSED) }
        defer { close(fd) }
        _ = text.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        shutdown(fd, Int32(SHUT_WR))
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        return try String(decoding: received, as: UTF8.self).split(separator: "\n").map { try JSON(parsing: String($0)) }
    }

    @Test func pipelinedRequestsAreAnsweredInOrderUnderTheClientsIds() throws {
        let fixture = try SandboxFixture("pipeline")
        try fixture.start()
        let answers = try Self.converse(fixture.layout.socket, """
            {"id":"a","op":"health"}
            {"id":7,"op":"command","command":"echo","args":{"n":1}}
            {"id":[1],"op":"command","command":"fail","args":{}}

            """)
        #expect(answers.count == 3)
        #expect(answers.map { $0["id"] } == ["a", 7, [1]])
        #expect(answers.map { $0["ok"] } == [true, true, false])
        #expect(answers[1]["result"]?["args"] == ["n": 1])
        #expect(answers[2]["error"] == ["code": "CommandFailed", "message": "onCommand raised ValueError: asked to fail"])
    }

    @Test func theSupervisorAnswersBadRequestsItself() throws {
        let fixture = try SandboxFixture("badreq")
        try fixture.start()
        let answers = try Self.converse(fixture.layout.socket, """
            not json
            {"id":1}
            {"id":2,"op":"reboot"}
            {"id":3,"op":"hook","hook":"onSchedule"}
            {"id":4,"op":"command","command":"spin","args":{"seconds":1},"timeoutMs":200}
            {"id":5,"op":"status"}

            """)
        // The supervisor answers status and bad requests at once; relayed ones when the harness does.
        let byID = Dictionary(answers.map { ($0["id"]?.text ?? "?", $0) }, uniquingKeysWith: { first, _ in first })
        #expect(answers.count == 6)
        #expect(byID["null"]?["error"]?["code"] == "BadRequest")
        #expect(byID["1"]?["error"] == ["code": "BadRequest", "message": "a request is a JSON object with a string 'op'"])
        #expect(byID["2"]?["error"]?["code"] == "UnknownOp")
        #expect(byID["3"]?["error"] == ["code": "NoSuchHook", "message": "the plugin's manifest declares no hook 'onSchedule'"])
        #expect(byID["4"]?["error"] == ["code": "Timeout", "message": "no answer to 'command' within 200 ms"])
        #expect(byID["5"]?["result"]?["plugin"] == .string(fixture.pluginID))
    }

    @Test func otherDeclaredHooksAreCalledWithTheirArguments() throws {
        var files = ProbePlugin.files
        files["hooks/onSchedule.py"] = "def on_schedule(ctx, args):\n    return {'ran': args.get('job'), 'plugin': ctx.plugin_id}\n"
        var hooks = ProbePlugin.hooks
        hooks["onSchedule"] = "hooks/onSchedule.py"
        let fixture = try SandboxFixture("hooks", files: files, hooks: hooks)
        try fixture.start()
        #expect(try fixture.request("hook", ["hook": "onSchedule", "args": ["job": "nightly"]]) == ["ran": "nightly", "plugin": .string(fixture.pluginID)])
        #expect(try fixture.request("load") == ["loaded": true, "hooks": ["onCommand", "onLoad", "onSchedule", "onUnload"]])
    }
}

/// connect(2) to a Unix socket path, without the Foundation dance.
enum Darwinless {
    static func connect(_ path: String) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
        }
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if connected != 0 {
            close(fd)
            return -1
        }
        return fd
    }
}
