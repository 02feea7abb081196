// kaipm-supervisor: owns one plugin's sandbox (the role conmon or containerd-shim plays).
//
//   kaipm-supervisor --spec <root>/kos/run/<id>.spec.json [--ready-fd N] [--foreground]
//
// Started by SupervisorLauncher (kaipm): detaches (forks; the launcher gave it a new session),
// starts bubblewrap, and lives as long as the sandbox does. See Sources/KaipmSandbox/PROTOCOL.md.
import CKaipmSandboxShims
import Glibc
import KaipmSandbox

func usage(_ message: String) -> Never {
    Posix.writeAll(2, Array("kaipm-supervisor: \(message)\nusage: kaipm-supervisor --spec FILE [--ready-fd N] [--foreground]\n".utf8))
    exit(2)
}

var specPath: String?
var readyFD: Int32 = -1
var foreground = false
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--spec": specPath = arguments.popFirst()
    case "--ready-fd": readyFD = arguments.popFirst().flatMap { Int32($0) } ?? -1
    case "--foreground": foreground = true
    default: usage("unknown argument '\(argument)'")
    }
}
guard let specPath else { usage("--spec is required") }
// Descriptors the launcher's process had open are none of the sandbox's business.
_ = kaipm_close_from(max(3, readyFD + 1))
if !foreground && kaipm_daemonize() != 0 { exit(1) }

let report = ReadyReport(fd: readyFD)
let spec: SandboxSpec
do {
    guard let bytes = Posix.readFile(specPath) else {
        throw SandboxError.system(operation: "read", path: specPath, code: errno)
    }
    let json: JSON
    do {
        json = try JSON(parsing: bytes)
    } catch {
        throw SandboxError.invalidSpec(plugin: "?", reason: "\(specPath): \(error)")
    }
    spec = try SandboxSpec(json: json)
} catch {
    report.fail("\(error)")
    exit(1)
}
do {
    let supervisor = try Supervisor(spec: spec, readyReport: report)
    exit(supervisor.run())
} catch {
    report.fail("\(error)")
    exit(1)
}
