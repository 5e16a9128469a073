import Foundation
import GRDB
import KBEmbedding
import KBIngest
import KBSearch
@testable import KBServer
@testable import KBStore
import KBTestSupport
import NIOPosix
import XCTest

/// The write lock is held only for the transaction, and work nobody waits for stops.
final class KnowledgeBaseConcurrencyTests: XCTestCase {
    func testDeletesAndSearchesAreNotBlockedWhileAnUploadIsEmbedding() async throws {
        let embedder = GatedEmbedder()
        let knowledge = try await makeService(embedder: embedder)
        let kernel = try await documentID(knowledge, uri: "kernel")

        let large = try record(id: "large", text: "GATE " + TestSupport.prose(seed: 3, sentences: 400))
        let upload = Task { try await knowledge.ingest([large]) }
        await embedder.waitUntilEntered()

        // The upload is inside the embedding model and stays there until the gate opens.
        let deleted = try await finishes(within: 10, otherwise: embedder.open) {
            try await knowledge.deleteDocument(id: kernel)
        }
        XCTAssertEqual(deleted.flatMap { $0 }.map { $0 > 0 }, true, "the delete ran while the upload was embedding")
        let found = try await finishes(within: 10, otherwise: embedder.open) {
            try await knowledge.search("backup archive", mode: .lexical, topK: 3, filters: SearchFilters()).hits.count
        }
        XCTAssertEqual(found, 1)
        XCTAssertFalse(embedder.isOpen, "both finished before the upload could go on")

        embedder.open()
        let outcomes = try await upload.value
        XCTAssertEqual(outcomes.map(\.status), [.added])
        XCTAssertEqual(try knowledge.store.statistics().documents, 2, "backup and large (kernel was deleted)")
    }

    func testAnUploadCancelledWhileEmbeddingNeverCommits() async throws {
        let embedder = GatedEmbedder()
        let knowledge = try await makeService(embedder: embedder)
        let late = try record(id: "late", text: "GATE Tide tables list the spring tides.")
        let upload = Task { try await knowledge.ingest([late]) }
        await embedder.waitUntilEntered()
        upload.cancel()   // the request timed out, or its client left
        embedder.open()
        do {
            let outcomes = try await upload.value
            XCTFail("the cancelled upload committed: \(outcomes)")
        } catch {
            XCTAssertTrue(error is CancellationError, "\(error)")
        }
        XCTAssertEqual(try knowledge.store.statistics().documents, 2, "backup and kernel only")
    }

    func testCancellingAQueryInterruptsItsSQLiteWork() async throws {
        let knowledge = try await makeService(embedder: HashingEmbedder())
        let started = ContinuousClock.now
        // Counts to 3·10^8 (about a minute of work) unless interrupted.
        let query = Task {
            try await knowledge.offload { [store = knowledge.store] in
                try store.pool.read { db in
                    try Int.fetchOne(db, sql: """
                        WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 300000000)
                        SELECT count(*) FROM c
                        """)
                }
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        query.cancel()
        do {
            let count = try await query.value
            XCTFail("the query ran to the end: \(String(describing: count))")
        } catch {
            XCTAssertTrue(error is CancellationError, "\(error)")
        }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(5))
        // Other work on the store goes on.
        let hits = try await knowledge.search("backup archive", mode: .lexical, topK: 3, filters: SearchFilters())
        XCTAssertEqual(hits.hits.count, 1)
    }

    func testARequestDeadlineStopsTheSQLiteWorkInsteadOfWaitingForIt() async throws {
        let knowledge = try await makeService(embedder: HashingEmbedder())
        let started = ContinuousClock.now
        do {
            // As the routes run their work (`APIServer.timed`): the deadline cancels the work's
            // task, and the deadline's task group waits for that task to end.
            _ = try await withDeadline(0.3, timeoutError: APIError(.serviceUnavailable, "timeout", "too slow")) {
                try await knowledge.offload { [store = knowledge.store] in
                    try store.pool.read { db in
                        try Int.fetchOne(db, sql: """
                            WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 300000000)
                            SELECT count(*) FROM c
                            """)
                    }
                }
            }
            XCTFail("the deadline did not fire")
        } catch let error as APIError {
            XCTAssertEqual(error.code, "timeout")
        }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(5), "answered when the work stopped, not a minute later")
    }

    // MARK: - Helpers

    private func makeService(embedder: any Embedder) async throws -> KnowledgeBase {
        let path = try TestSupport.temporaryDirectory(self).appendingPathComponent("kb.sqlite").path
        let pool = NIOThreadPool(numberOfThreads: 4)
        pool.start()
        addTeardownBlock { try? await pool.shutdownGracefully() }
        let knowledge = try KnowledgeBase(store: try KBDatabase(path: path), embedder: embedder,
                                             chunker: Chunker(options: ChunkingOptions(), counter: try TestSupport.loadTokenizer()),
                                             threadPool: pool)
        _ = try await knowledge.ingest([
            record(id: "backup", text: "The database backup runs at midnight. Backups are copied to the archive mirror."),
            record(id: "kernel", text: "Kernel upgrades need a reboot of every node."),
        ])
        return knowledge
    }

    private func record(id: String, text: String) throws -> JSONLinesReader.Record {
        let line = try JSONSerialization.data(withJSONObject: ["id": id, "text": text])
        return try line.withUnsafeBytes { try JSONLinesReader.parse(line: $0) }
    }

    private func documentID(_ knowledge: KnowledgeBase, uri: String) async throws -> Int64 {
        try await knowledge.offload { [store = knowledge.store] in
            try store.pool.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM documents WHERE uri = ?", arguments: [uri]) }
        } ?? -1
    }

    /// `work`'s result, or nil (a failure) when it has not finished within `seconds`; then `unblock`
    /// runs so that the test can end.
    private func finishes<T: Sendable>(within seconds: Double, otherwise unblock: @escaping @Sendable () -> Void,
                                       _ work: @escaping @Sendable () async throws -> T) async throws -> T? {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await work() }
            group.addTask {
                try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
                return nil
            }
            let first = try await group.next() ?? nil
            if first == nil {
                XCTFail("blocked for \(seconds) s")
                unblock()
            }
            group.cancelAll()
            return first
        }
    }
}

/// The hashing embedder, except that a batch with a text containing "GATE" waits until ``open()``
/// (the slow embedding of a large upload, without timing luck).
final class GatedEmbedder: Embedder, @unchecked Sendable {
    private let inner = HashingEmbedder()
    private let entered = DispatchSemaphore(value: 0)
    private let gate = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var opened = false

    var name: String { inner.name }
    var dimensions: Int { inner.dimensions }
    var maxTokens: Int { inner.maxTokens }
    var fingerprint: String { inner.fingerprint }
    var isOpen: Bool { lock.withLock { opened } }

    func embed(_ texts: [String], kind: EmbeddingKind) throws -> [[Float]] {
        if texts.contains(where: { $0.contains("GATE") }) {
            entered.signal()
            _ = gate.wait(timeout: .now() + 60)
        }
        return try inner.embed(texts, kind: kind)
    }

    /// Waits (off the concurrency pool) until a gated batch is inside ``embed(_:kind:)``.
    func waitUntilEntered() async {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { [entered] in
                _ = entered.wait(timeout: .now() + 60)
                continuation.resume()
            }
        }
    }

    func open() {
        let first = lock.withLock { () -> Bool in
            defer { opened = true }
            return !opened
        }
        if first { gate.signal() }
    }
}
