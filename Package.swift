// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "CCHCSync",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "SyncCore", targets: ["SyncCore"]),
        .executable(name: "unit-client", targets: ["unit-client"]),
        .executable(name: "hub", targets: ["hub"]),
        .executable(name: "cchc-bench", targets: ["cchc-bench"]),
        .executable(name: "cchc-sim", targets: ["cchc-sim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // Already in the graph through Hummingbird; named for the hub's TLS and the client's pinned transport.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        .target(
            name: "SyncCore",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                "CCHCZlib",
            ],
            resources: [.copy("Resources/plan-2026.json")]
        ),
        // The system zlib (deflate, inflate, CRC-32) for sync bodies, bundles and the DOCX writer; not
        // CZlib, which is a ZIPFoundation module's name (ZIPFoundation now only reads DOCX files in tests).
        .systemLibrary(name: "CCHCZlib", path: "Sources/CCHCZlib"),
        // Command-line plumbing every executable shares: the error rule, typed options, printers.
        .target(
            name: "CommandSupport",
            dependencies: ["SyncCore", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "unit-client",
            dependencies: [
                "SyncCore", "CommandSupport", "PinnedTransport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "hub",
            dependencies: [
                "SyncCore", "CommandSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The client's https transport: HTTP/1.1 on NIO with TLS that accepts only the hub
        // certificate pinned in the enrolment (URLSession on Linux cannot check a certificate).
        .target(
            name: "PinnedTransport",
            dependencies: [
                "SyncCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // The benchmarks and the replica filler for load tests: not part of the library or the CLIs.
        .executableTarget(
            name: "cchc-bench",
            dependencies: [
                "SyncCore", "CommandSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // The deterministic simulator (docs/SIMULATION.md): replicas and a hub in one process over the
        // real stores, wire encoding and request handler; no HTTP server (no Hummingbird, no NIO).
        .target(name: "Simulation", dependencies: ["SyncCore", "CCHCFaultVFS"]),
        // A SQLite VFS over the system's that fails chosen writes and syncs as a failing disk
        // does: the simulator's and the tests' injected I/O errors. Never installed by a shipped
        // executable.
        .target(name: "CCHCFaultVFS", linkerSettings: [.linkedLibrary("sqlite3")]),
        .executableTarget(
            name: "cchc-sim",
            dependencies: ["Simulation", "SyncCore", "CommandSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // What both test targets share (reading DOCX files back); not shipped.
        .target(
            name: "TestSupport",
            dependencies: [.product(name: "ZIPFoundation", package: "ZIPFoundation")],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "SyncCoreTests",
            dependencies: ["SyncCore", "TestSupport", .product(name: "ZIPFoundation", package: "ZIPFoundation")]
        ),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "SyncCore"]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "SyncCore", "TestSupport", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            // Databases and reports of earlier releases, read by PreviousVersionTests.
            exclude: ["Fixtures"]
        ),
    ]
)
