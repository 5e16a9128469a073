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
    ],
    targets: [
        /// Small shared pieces with no dependencies (SHA-256).
        .target(name: "KBSupport"),
        /// SQLite schema, migrations, records and the full-text index.
        .target(name: "KBStore", dependencies: ["KBSupport", .product(name: "GRDB", package: "GRDB.swift")]),
        /// CBLAS from Debian's OpenBLAS (libopenblas-dev).
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        /// Tokenizers and sentence-embedding models.
        .target(name: "KBEmbedding", dependencies: ["COpenBLAS", "KBSupport"]),
        /// In-memory vector search over the stored embeddings (exact float32 and int8 scans).
        .target(name: "KBIndex", dependencies: ["COpenBLAS"]),
        /// The local GGUF inference engine: file reader, quantized kernels, models, sampling, KV cache.
        /// Compiled optimised in debug builds too: its tests run real models through it.
        .target(name: "KBLLM", swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        /// Readers, chunking and the ingest pipeline.
        .target(name: "KBIngest", dependencies: ["KBStore", "KBEmbedding"]),
        /// Query parsing, ranking and snippets.
        .target(name: "KBSearch", dependencies: ["KBStore", "KBIndex", "KBEmbedding"]),
        /// The `kb` command-line tool.
        .executableTarget(
            name: "kb",
            dependencies: [
                "KBStore", "KBIngest", "KBSearch", "KBEmbedding", "KBLLM",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        /// Temporary folders, the model location and a runner for the built `kb` binary.
        .target(name: "KBTestSupport", dependencies: ["KBEmbedding"], path: "Tests/KBTestSupport"),
        .testTarget(name: "KBStoreTests", dependencies: ["KBStore", "KBSupport", "KBTestSupport"]),
        .testTarget(name: "KBEmbeddingTests", dependencies: ["KBEmbedding", "KBSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "KBLLMTests", dependencies: ["KBLLM"], resources: [.copy("Fixtures")]),
        .testTarget(name: "KBIndexTests", dependencies: ["KBIndex"]),
        .testTarget(name: "KBIngestTests", dependencies: ["KBIngest", "KBStore", "KBTestSupport"]),
        .testTarget(name: "KBSearchTests", dependencies: ["KBSearch", "KBIngest", "KBStore", "KBTestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["KBStore", "KBTestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
    ]
)
