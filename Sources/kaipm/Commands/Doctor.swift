import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import KaipmEngine
import KaipmSandbox

extension Kaipm {
    /// `kaipm doctor`: which of issue #3's isolation features this host enforces, with the fix for each it does not.
    struct Doctor: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check what sandbox isolation this host can enforce, with the fix for each feature it cannot.",
            discussion: "Exit status: 0 when every feature is enforceable, 1 otherwise.")

        @OptionGroup var host: HostOptions

        @Option(help: "Output format: text or json.")
        var format: OutputFormat = .text

        func validate() throws {
            if format == .markdown { throw ValidationError("doctor prints text or json.") }
        }

        func run() throws {
            let features = HostDoctor.check(environment: ProcessInfo.processInfo.environment)
            let enforceable = features.allSatisfy(\.enforced)
            let root = host.resolvedRoot
            if format == .json {
                let json = JSON.object([
                    "root": .string(root),
                    "enforceable": .bool(enforceable),
                    "features": .array(features.map { feature in
                        JSON.object([
                            "feature": .string(feature.name),
                            "enforced": .bool(feature.enforced),
                            "detail": .string(feature.detail),
                            "fix": feature.fix.map(JSON.string) ?? .null,
                        ])
                    }),
                ])
                printOut(json.text + "\n")
            } else {
                printOut("Root: \(root)\n")
                let width = (features.map(\.name.count).max() ?? 0) + 2
                for feature in features {
                    printOut((feature.enforced ? "ok    " : "NO    ")
                             + feature.name.padding(toLength: width, withPad: " ", startingAt: 0) + feature.detail + "\n")
                    if let fix = feature.fix { printOut(String(repeating: " ", count: 6 + width) + "fix: \(fix)\n") }
                }
                let missing = features.filter { !$0.enforced }.count
                printOut(enforceable
                         ? "\nEvery isolation feature is enforceable on this host.\n"
                         : "\n\(missing) of \(features.count) isolation features cannot be enforced on this host.\n")
            }
            if !enforceable { throw ExitCode.failure }
        }
    }
}

/// The checks behind `kaipm doctor`: HostIsolationProbe's report, plus namespaces, rlimits and the supervisor.
enum HostDoctor {
    struct Feature {
        var name: String
        var enforced: Bool
        var detail: String
        var fix: String?
    }

    static func check(environment: [String: String]) -> [Feature] {
        let report = HostIsolationProbe.run()
        var features: [Feature] = []
        func fromProbe(_ limit: String, as name: String, fix: String? = nil) {
            guard let item = report[limit] else {
                features.append(Feature(name: name, enforced: false, detail: "not checked", fix: fix ?? "update kaipm"))
                return
            }
            features.append(Feature(name: name, enforced: item.enforced, detail: item.detail,
                                    fix: item.enforced ? nil : (fix ?? item.detail)))
        }

        fromProbe("bubblewrap", as: "bubblewrap", fix: "apt-get install bubblewrap")
        let supervisor = environment["KAIPM_SUPERVISOR"] ?? SupervisorLauncher.besideCurrentExecutable().executable
        let supervisorFound = access(supervisor, X_OK) == 0
        features.append(Feature(name: "supervisor", enforced: supervisorFound,
                                detail: supervisorFound ? supervisor : "\(supervisor) is missing",
                                fix: supervisorFound ? nil : "install kaipm-supervisor beside kaipm (swift build --product kaipm-supervisor) or set KAIPM_SUPERVISOR"))
        fromProbe("python", as: "python")

        // Namespaces: the kernel has each kind when /proc/self/ns lists it; the user namespace must
        // also be open to unprivileged users, since bubblewrap creates them all from inside it.
        let user = report["userNamespaces"]
        let userKernel = access("/proc/self/ns/user", F_OK) == 0
        features.append(Feature(name: "namespace.user", enforced: userKernel && user?.enforced == true,
                                detail: userKernel ? (user?.detail ?? "not checked") : "the kernel has no user namespaces",
                                fix: userKernel && user?.enforced == true ? nil
                                    : (userKernel ? user?.detail : "use a kernel built with CONFIG_USER_NS")))
        for (kind, config) in [("pid", "CONFIG_PID_NS"), ("net", "CONFIG_NET_NS"), ("ipc", "CONFIG_IPC_NS"),
                               ("uts", "CONFIG_UTS_NS"), ("cgroup", "CONFIG_CGROUPS")] {
            let present = access("/proc/self/ns/\(kind)", F_OK) == 0
            features.append(Feature(name: "namespace.\(kind)", enforced: present,
                                    detail: present ? "the kernel has \(kind) namespaces (/proc/self/ns/\(kind))"
                                        : "the kernel has no \(kind) namespaces",
                                    fix: present ? nil : "use a kernel built with \(config)"))
        }

        // seccomp: the kernel's filter mode and libseccomp building the filter.
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let kernelSeccomp = status.split(separator: "\n").contains { $0.hasPrefix("Seccomp:") }
        if let item = report["seccomp"] {
            let enforced = item.enforced && kernelSeccomp
            features.append(Feature(name: "seccomp", enforced: enforced,
                                    detail: kernelSeccomp ? item.detail : "the kernel has no seccomp (no Seccomp: in /proc/self/status)",
                                    fix: enforced ? nil : (kernelSeccomp ? "apt-get install libseccomp2: \(item.detail)"
                                                            : "use a kernel built with CONFIG_SECCOMP_FILTER")))
        }

        fromProbe("identity", as: "identity", fix: "run kaipm as root so that each plugin gets a uid and a cgroup of its own")
        let cgroups = CgroupHost.detect()
        for controller in CgroupHost.controllers {
            let fix: String
            switch cgroups.version {
            case .none: fix = "mount a cgroup hierarchy (cgroup2 at /sys/fs/cgroup) and run kaipm as root"
            case .v2: fix = "enable +\(controller) in the parent's cgroup.subtree_control and run kaipm as root"
            case .v1: fix = "mount the \(controller) controller (cgroup v1) and run kaipm as root"
            }
            fromProbe(controller, as: "quota.\(controller)", fix: fix)
        }

        // rlimits: set by the supervisor before exec; a process can always lower its own limits.
        var limit = rlimit()
        // Linux's resource numbers (the same on x86_64 and aarch64).
        let resources: [(String, __rlimit_resource_t)] = [("AS", 9), ("CPU", 0), ("FSIZE", 1), ("NOFILE", 7), ("CORE", 4), ("NPROC", 6)]
        let unreadable = resources.filter { getrlimit($0.1, &limit) != 0 }.map(\.0)
        features.append(Feature(name: "rlimits", enforced: unreadable.isEmpty,
                                detail: unreadable.isEmpty ? "setrlimit before exec: " + resources.map { "RLIMIT_\($0.0)" }.joined(separator: ", ")
                                    : "getrlimit fails for \(unreadable.joined(separator: ", "))",
                                fix: unreadable.isEmpty ? nil : "use a Linux kernel with the standard rlimits"))
        return features
    }
}
