// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "kaipm",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "kaipm", targets: ["kaipm"]),
        .library(name: "JSONSchema", targets: ["JSONSchema"]),
        .executable(name: "kaipm-supervisor", targets: ["kaipm-supervisor"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // libgit2 from Debian's libgit2-dev, found with pkg-config.
        .systemLibrary(
            name: "CLibgit2",
            pkgConfig: "libgit2",
            providers: [.apt(["libgit2-dev"])]
        ),
        // A JSON Schema validator (2020-12 and draft-07) with no dependency on the rest of kaipm.
        .target(name: "JSONSchema"),
        .executableTarget(name: "JSONSchemaBench", dependencies: ["JSONSchema"]),
        // The pure core: models, desired-state parsing and validation, the planner. No I/O.
        // It validates configs and desired-state files with the (equally pure) JSONSchema module.
        .target(
            name: "KaipmCore",
            dependencies: [
                "JSONSchema",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Adapter: desired state and plugin sources read from git objects with libgit2.
        .target(name: "KaipmGit", dependencies: ["CLibgit2", "KaipmCore"]),
        // Linux calls Swift's Glibc module does not expose (syncfs, getdents64), for KaipmStore.
        .target(name: "CKaipmShims"),
        // Adapter: the content-addressed plugin store and tree hashing on disk.
        .target(
            name: "KaipmStore",
            dependencies: ["KaipmCore", "CKaipmShims", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Adapter: the SQLite registry (GRDB).
        .target(
            name: "KaipmRegistry",
            dependencies: ["KaipmCore", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // The reconciler: observe, plan, act, wiring the adapters to the core.
        .target(
            name: "KaipmEngine",
            dependencies: [
                "KaipmCore", "KaipmGit", "KaipmStore", "KaipmRegistry", "KaipmSandbox",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "kaipm",
            dependencies: [
                "KaipmEngine",
                "KaipmSandbox",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // libseccomp from Debian's libseccomp-dev, for the sandbox's syscall filter.
        .systemLibrary(
            name: "CSeccomp",
            pkgConfig: "libseccomp",
            providers: [.apt(["libseccomp-dev"])]
        ),
        // Process setup between fork and exec, and Linux calls Glibc does not import, for sandboxes.
        .target(name: "CKaipmSandboxShims"),
        // Adapter: bubblewrap sandboxes (argv, seccomp, cgroups, rlimits, the control protocol).
        // No Foundation, so that kaipm-supervisor, which links it, stays small.
        .target(name: "KaipmSandbox", dependencies: ["CSeccomp", "CKaipmSandboxShims"], exclude: ["PROTOCOL.md"]),
        // The per-sandbox supervisor: owns one sandbox, its log and its control socket.
        .executableTarget(
            name: "kaipm-supervisor",
            dependencies: ["KaipmSandbox", "CKaipmSandboxShims"],
            path: "Sources/kaipm-supervisor"
        ),
        // The benchmark of `make bench`: generates repositories and times the real binary.
        .executableTarget(name: "kaipm-bench", path: "Sources/kaipm-bench"),
        .testTarget(name: "JSONSchemaTests", dependencies: ["JSONSchema"]),
        .testTarget(name: "KaipmCoreTests", dependencies: ["KaipmCore", "JSONSchema"]),
        .testTarget(name: "KaipmGitTests", dependencies: ["KaipmGit"]),
        .testTarget(name: "KaipmStoreTests", dependencies: ["KaipmStore"]),
        .testTarget(
            name: "KaipmRegistryTests",
            dependencies: ["KaipmRegistry", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(name: "KaipmSandboxTests", dependencies: ["KaipmSandbox", "KaipmCore"]),
        .testTarget(name: "KaipmEngineTests", dependencies: ["KaipmEngine", "KaipmSandbox", .product(name: "Logging", package: "swift-log")]),
    ],
    swiftLanguageModes: [.v6]
)
