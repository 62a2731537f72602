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
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
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
                "SyncCore", "CommandSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "hub",
            dependencies: [
                "SyncCore", "CommandSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
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
