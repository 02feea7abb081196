import Foundation
import KaipmSandbox
import Testing

/// The shipped example plugins are ordinary Python, and run unchanged in the sandbox.
@Suite("Example plugins")
struct ExamplePluginsTests {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples/plugins").path

    /// The example's files, and its hooks as its manifest lists them.
    static func plugin(_ name: String) throws -> (files: [String: String], hooks: [String: String]) {
        let folder = examples + "/" + name
        var files = [String: String]()
        for case let path as String in FileManager.default.enumerator(atPath: folder) ?? FileManager.DirectoryEnumerator() {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: folder + "/" + path, isDirectory: &isDirectory), !isDirectory.boolValue {
                files[path] = try String(contentsOfFile: folder + "/" + path, encoding: .utf8)
            }
        }
        var hooks = [String: String]()
        for hook in ["onLoad", "onCommand", "onUnload", "onHealth"] where files["hooks/\(hook).py"] != nil { hooks[hook] = "hooks/\(hook).py" }
        return (files, hooks)
    }

    @Test func myPluginGreetsAndCounts() throws {
        let example = try Self.plugin("my-plugin")
        let fixture = try SandboxFixture("my-plugin", files: example.files, hooks: example.hooks, config: "greeting: \"Hi\"\nshout: false\n")
        try fixture.start()
        #expect(try fixture.command("greet", ["name": "Ada"]) == ["message": "Hi, Ada!"])
        #expect(try fixture.command("stats") == ["greetings": 1])
        try fixture.request("unload")
        _ = try fixture.waitForExit()
        #expect(fixture.log.contains("[\(fixture.pluginID)] my-plugin loaded with greeting 'Hi'"))
        #expect(fixture.log.contains("[\(fixture.pluginID)] my-plugin unloading"))
    }

    @Test func notesKeepsItsNotesAcrossRestarts() throws {
        let example = try Self.plugin("notes")
        let fixture = try SandboxFixture("notes", files: example.files, hooks: example.hooks, config: "maxNotes: 10\n")
        try fixture.start()
        #expect(try fixture.command("add", ["text": "buy milk"]) == ["count": 1])
        try fixture.request("unload")
        _ = try fixture.waitForExit()
        try fixture.start()
        #expect(try fixture.command("add", ["text": "call Ada"]) == ["count": 2])
        #expect(try fixture.command("list") == ["notes": ["buy milk", "call Ada"]])
        #expect(try fixture.request("health")["check"] == ["healthy": true, "notes": 2])
    }

    @Test func weatherWithoutANetworkGrantGetsNoForecast() throws {
        let example = try Self.plugin("weather")
        let fixture = try SandboxFixture("weather", files: example.files, hooks: example.hooks,
                                         config: "endpoint: \"api.weather.example\"\nrefreshMinutes: 30\ntimeoutSeconds: 2\nunits: \"metric\"\n")
        try fixture.start()
        let answer = try fixture.command("forecast", ["city": "Lisbon"])
        #expect(answer["city"] == "Lisbon")
        #expect(answer["error"]?.stringValue?.hasPrefix("forecast unavailable: <urlopen error [Errno -3] Temporary failure in name resolution>") == true,
                "\(answer.text)")
    }
}
