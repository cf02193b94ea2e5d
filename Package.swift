// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "commune",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "commune", targets: ["commune"]),
        .library(name: "CommuneProtocol", targets: ["CommuneProtocol"]),
        .library(name: "CommuneClient", targets: ["CommuneClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket", from: "1.6.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // Wire types, codecs and the handshake's crypto. No I/O.
        .target(
            name: "CommuneProtocol",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto")
            ],
            swiftSettings: swiftSettings
        ),
        // The domain: community, interactable tree, members, channels, and the Store protocol.
        .target(
            name: "CommuneCore",
            dependencies: [
                "CommuneProtocol",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        // The Store on SQLite (GRDB, WAL).
        .target(
            name: "CommuneSQLite",
            dependencies: [
                "CommuneCore",
                "CommuneProtocol",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The Store on PostgreSQL (postgres-nio): the same protocols, for a community on several nodes.
        .target(
            name: "CommunePostgres",
            dependencies: [
                "CommuneCore",
                "CommuneProtocol",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // `commune migrate-store`: copies a community from the SQLite store to the PostgreSQL one (raw SQL on both sides:
        // one read snapshot, COPY in one transaction), so that the CLI and the tests share it.
        .target(
            name: "CommuneMigration",
            dependencies: [
                "CommuneCore",
                "CommuneSQLite",
                "CommunePostgres",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The web client's static files (its own modules per codec and feature), served by the server.
        .target(
            name: "CommuneWebClient",
            resources: [.copy("Web")],
            swiftSettings: swiftSettings
        ),
        // The Hummingbird application: routes, sessions, fan-out, static web client.
        .target(
            name: "CommuneServer",
            dependencies: [
                "CommuneCore",
                "CommuneProtocol",
                "CommuneSQLite",
                "CommunePostgres",
                "CommuneWebClient",
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        // The Swift client library used by the CLI, the tests and the benchmark.
        .target(
            name: "CommuneClient",
            dependencies: [
                "CommuneProtocol",
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "commune",
            dependencies: [
                "CommuneServer",
                "CommuneClient",
                "CommuneCore",
                "CommuneProtocol",
                "CommuneSQLite",
                "CommunePostgres",
                "CommuneMigration",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The load generator: speaks Commune (and XMPP, for the peer comparison) over loopback. Not a test.
        .executableTarget(
            name: "commune-bench",
            dependencies: [
                "CommuneProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/commune-bench",
            swiftSettings: swiftSettings
        ),
        // The benchmark's hardware baseline: a bare WebSocket broadcast server on swift-nio (no auth, no storage).
        .executableTarget(
            name: "bare-broadcast",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            path: "Benchmarks/bare-broadcast",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CommuneProtocolTests",
            dependencies: ["CommuneProtocol", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CommuneCoreTests",
            dependencies: [
                "CommuneCore", "CommuneProtocol", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CommuneSQLiteTests",
            dependencies: [
                "CommuneSQLite", "CommunePostgres", "CommuneCore", "CommuneProtocol", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "CoreMetrics", package: "swift-metrics"), .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "CommuneServerTests",
            dependencies: [
                "CommuneServer", "CommuneClient", "CommuneCore", "CommuneProtocol", "CommuneSQLite", "CommunePostgres", "CommuneMigration",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
