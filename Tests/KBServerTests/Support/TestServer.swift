import Foundation
import GRDB
import KBIngest
@testable import KBServer
@testable import KBStore
import KBTestSupport
import Logging
import ServiceLifecycle
import XCTest
import KBSupport

/// A `kb serve` on a free loopback port over a fresh knowledge base with a few documents, embedded
/// by the hashing test embedder. Stopped (gracefully) when the test ends.
final class TestServer: @unchecked Sendable {
    let client: HTTPTestClient
    let server: APIServer
    let generator: ScriptedGenerator?
    let logs: LogCapture
    let databasePath: String
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    static let apiKey = "test-key-0123456789"

    /// Documents every test base starts with (JSON Lines records).
    nonisolated(unsafe) static let corpus: [[String: Any]] = [
        ["id": "rotate", "title": "Log rotation", "url": "https://docs.example/rotate",
         "text": "Logrotate rotates the log files every night. Old logs are compressed with gzip and kept for two weeks.",
         "metadata": ["team": "ops", "year": 2024]],
        ["id": "backup", "title": "Database backups",
         "text": "The database backup runs at midnight. Backups are copied to the archive mirror and checked weekly.",
         "metadata": ["team": "data"]],
        ["id": "kernel", "title": "Kernel upgrades",
         "text": "Kernel upgrades need a reboot of every node. Schedule the reboot in the maintenance window.",
         "metadata": ["team": "ops"]],
    ]

    /// - Parameters:
    ///   - generator: the model double; nil starts a search-only server.
    ///   - adjust: changes to the configuration (keys are set to ``apiKey`` by default).
    ///   - answerModel: another model to answer with (the real engine), used when `generator` is nil.
    ///   - refreshInterval: seconds between checks for writes by other connections.
    init(_ testCase: XCTestCase, generator: ScriptedGenerator? = ScriptedGenerator(), answerModel: (any AnswerGenerator)? = nil,
         refreshInterval: Double = 1, adjust: (inout ServerConfiguration) -> Void = { _ in }) async throws {
        let directory = try TestSupport.temporaryDirectory(testCase)
        databasePath = directory.appendingPathComponent("kb.sqlite").path
        let store = try KBDatabase(path: databasePath)
        let tokenizer = try TestSupport.loadTokenizer()
        let knowledge = try KnowledgeBase(store: store, embedder: HashingEmbedder(),
                                             chunker: Chunker(options: ChunkingOptions(), counter: tokenizer),
                                             refreshInterval: refreshInterval)
        let records = try Self.corpus.map { object in
            try JSONSerialization.data(withJSONObject: object).withUnsafeBytes { try JSONLinesReader.parse(line: $0) }
        }
        _ = try await knowledge.ingest(records)
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.apiKeys = [Self.apiKey]
        adjust(&configuration)
        logs = LogCapture()
        var logger = Logger(label: "kb.serve.test") { [logs] _ in CapturingLogHandler(capture: logs) }
        logger.logLevel = .debug
        self.generator = generator
        server = APIServer(configuration: configuration, knowledge: knowledge, generator: generator ?? answerModel,
                                 logger: logger)
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let application = server.makeApplication { port in
            portContinuation.yield(port)
            portContinuation.finish()
        }
        group = ServiceGroup(configuration: .init(services: [application], logger: logger))
        task = Task { [group] in try await group.run() }
        var port = 0
        for await bound in ports { port = bound }
        client = HTTPTestClient(port: port)
        testCase.addTeardownBlock { [group, task] in
            await group.triggerGracefulShutdown()
            _ = try? await task.value
        }
    }

    /// Begins the graceful shutdown (as SIGTERM would) and waits until the server has stopped.
    /// - Returns: the seconds it took.
    func shutDown() async -> Double {
        let started = ContinuousClock.now
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        return (ContinuousClock.now - started).seconds
    }

    /// The document id the server gave a corpus record.
    func documentID(_ id: String) async throws -> Int64 {
        try await server.knowledge.offload { [server] in
            try server.knowledge.store.pool.read { db in
                try Int64.fetchOne(db, sql: "SELECT id FROM documents WHERE uri = ?", arguments: [id])
            }
        } ?? -1
    }
}

/// Collects every log line (message and metadata) so tests can check what is and is not logged.
final class LogCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var _lines: [String] = []

    var lines: [String] { lock.withLock { _lines } }

    func append(_ line: String) { lock.withLock { _lines.append(line) } }
}

/// A value-type log handler (as swift-log expects: each `Logger` copy owns its metadata, which
/// requests set concurrently) that writes into a shared ``LogCapture``.
struct CapturingLogHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        capture.append("\(event.level) \(event.message) \(all)")
    }
}
