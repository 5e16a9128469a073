// swift-tools-version: 6.0
//
// kb: a self-hosted knowledge base in one binary and one SQLite file.
// Targets are split by role; dependencies point one way (cli -> search/ingest -> embedding/store).
import PackageDescription

let package = Package(
    name: "kb",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "kb", targets: ["kb"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // The HTTP server (kb serve) and its operations: lifecycle, logs, metrics.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // DOCX, PPTX and XLSX are ZIP archives of XML (the XML parser is Foundation's).
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        /// Small shared pieces with no dependencies (SHA-256).
        .target(name: "KBSupport"),
        /// SQLite schema, migrations, records and the full-text index.
        .target(name: "KBStore", dependencies: ["KBSupport", .product(name: "GRDB", package: "GRDB.swift"),
                                               .product(name: "GRDBSQLite", package: "GRDB.swift")]),
        /// CBLAS from Debian's OpenBLAS (libopenblas-dev).
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        /// Tokenizers and sentence-embedding models.
        .target(name: "KBEmbedding", dependencies: ["COpenBLAS", "KBSupport"]),
        /// In-memory vector search over the stored embeddings (exact float32 and int8 scans).
        .target(name: "KBIndex", dependencies: ["COpenBLAS"]),
        /// The local GGUF inference engine: file reader, quantized kernels, models, sampling, KV cache.
        /// Compiled optimised in debug builds too: its tests run real models through it.
        .target(name: "KBLLM", dependencies: ["CKBKernels", "KBSupport"], swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        /// The quantized matrix-product kernels (scalar C + AVX2) and the thread pool, in C for speed.
        /// Optimised in debug builds too, for the same reason.
        .target(name: "CKBKernels", cSettings: [.unsafeFlags(["-O2"], .when(configuration: .debug))]),
        /// Readers, chunking and the ingest pipeline.
        .target(name: "KBIngest", dependencies: ["KBStore", "KBEmbedding", "KBSupport",
                                                 .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        /// Query parsing, ranking and snippets.
        .target(name: "KBSearch", dependencies: ["KBStore", "KBIndex", "KBEmbedding", "KBSupport"]),
        /// `kb serve`: the HTTP API (search, documents, cited answers, OpenAI-compatible chat) on Hummingbird.
        .target(
            name: "KBServer",
            dependencies: [
                "KBStore", "KBIngest", "KBSearch", "KBEmbedding", "KBLLM", "KBSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        /// The `kb` command-line tool.
        .executableTarget(
            name: "kb",
            dependencies: [
                "KBStore", "KBIngest", "KBSearch", "KBEmbedding", "KBLLM", "KBServer", "KBIndex", "KBSupport", "COpenBLAS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        /// Temporary folders, the model location and a runner for the built `kb` binary.
        .target(name: "KBTestSupport", dependencies: ["KBEmbedding", "KBSupport"], path: "Tests/KBTestSupport"),
        .testTarget(name: "KBStoreTests", dependencies: ["KBStore", "KBSupport", "KBTestSupport",
                                                       .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "KBEmbeddingTests", dependencies: ["KBEmbedding", "KBSupport", "KBTestSupport", "COpenBLAS"], resources: [.copy("Fixtures")]),
        .testTarget(name: "KBLLMTests", dependencies: ["KBLLM", "CKBKernels", "KBSupport", "KBTestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "KBIndexTests", dependencies: ["KBIndex"]),
        .testTarget(name: "KBIngestTests", dependencies: ["KBIngest", "KBStore", "KBEmbedding", "KBTestSupport",
                                                        .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "KBSearchTests", dependencies: ["KBSearch", "KBIngest", "KBStore", "KBTestSupport"]),
        .testTarget(name: "KBServerTests", dependencies: [
            "KBServer", "KBSearch", "KBIngest", "KBStore", "KBEmbedding", "KBSupport", "KBTestSupport",
            .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"), .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Yams", package: "Yams"),
        ]),
        .testTarget(name: "CLITests", dependencies: ["KBStore", "KBTestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
    ]
)
