import Foundation
import GRDB
import KBEmbedding
import KBIngest
import KBSearch
import KBStore
import NIOConcurrencyHelpers
import NIOPosix

/// The knowledge base as the server uses it: searches, document reads, and writes that keep the
/// in-memory vector index current. Database and BLAS work is blocking, so every call runs on NIO's
/// thread pool, never on the event loops or the Swift concurrency pool.
///
/// Threading: any number of searches run at once (SQLite WAL readers, the index's shared lock);
/// writes are serialized by ``writeLock`` so the index follows the database in commit order. A
/// search during a write sees the database before or after the commit; a chunk it ranked that
/// was deleted meanwhile is left out of its results (the hit loader skips missing rows).
///
/// Writes by other processes to the same file are followed too (``ExternalWriteFollower``): a
/// search first brings the vector index up to date when the database changed, at most once per
/// `refreshInterval`.
public final class KnowledgeService: Sendable {
    public let store: KnowledgeStore
    public let engine: SearchEngine
    private let pipeline: IngestPipeline
    private let writeLock = NSLock()
    private let follower: ExternalWriteFollower
    private let threadPool: NIOThreadPool

    /// - Parameters:
    ///   - store: opened read-write.
    ///   - embedder: the base's embedding model (nil: lexical search only, no vectors for new documents).
    ///   - chunker: splits posted documents, as `kb ingest` does.
    ///   - refreshInterval: seconds between checks for writes by other processes (0: every search).
    /// - Throws: ``SearchError``/``EmbeddingStoreError`` when the embedder is not the base's model.
    public init(store: KnowledgeStore, embedder: (any Embedder)?, chunker: Chunker, refreshInterval: Double = 1,
                threadPool: NIOThreadPool = .singleton) throws {
        if let embedder {
            // A new base gets the model now, so the index exists before the first document arrives.
            try store.pool.write { db in
                if try EmbeddingStore.activeModel(db) == nil {
                    _ = try EmbeddingStore.register(db, name: embedder.name, dimensions: embedder.dimensions,
                                                    fingerprint: embedder.fingerprint)
                    try EmbeddingStore.activate(db, name: embedder.name)
                }
            }
        }
        self.store = store
        self.follower = try ExternalWriteFollower(store: store, interval: refreshInterval)  // before the index loads
        self.engine = try SearchEngine(store: store, embedder: embedder)
        var options = IngestOptions()
        options.threads = 1   // requests are the unit of parallelism here
        self.pipeline = IngestPipeline(store: store, chunker: chunker, options: options,
                                       embedder: engine.index == nil ? nil : embedder)
        self.threadPool = threadPool
    }

    /// Runs blocking work off the event loops.
    func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await threadPool.runIfActive(work)
    }

    // MARK: - Search

    /// Searches; a hybrid search on a base without vectors runs lexically.
    /// - Returns: the hits and the mode that ran.
    func search(_ query: String, mode: SearchMode, topK: Int, filters: SearchFilters) async throws
        -> (hits: [SearchHit], mode: SearchMode) {
        try await offload { [engine, follower, writeLock] in
            try follower.refreshIfDue(engine: engine, writes: writeLock)
            let effective: SearchMode = mode == .hybrid && !engine.hasVectors ? .lexical : mode
            return (try engine.search(query, mode: effective, topK: topK, filters: filters), effective)
        }
    }

    /// Refreshes made after writes by other processes, and the chunks the last one added and removed.
    var externalRefreshes: (count: Int, lastAdded: Int, lastRemoved: Int) {
        (follower.refreshes, follower.lastChange.added, follower.lastChange.removed)
    }

    // MARK: - Documents

    /// Stores records (one transaction) and updates the vector index.
    func ingest(_ records: [JSONLinesReader.Record]) async throws -> [RecordOutcome] {
        try await offload { [self] in
            try writeLock.withLock {
                let result = try pipeline.ingest(records: records, sourcePath: "api")
                engine.remove(chunkIDs: result.removedChunkIDs)
                engine.add(chunkIDs: result.addedChunkIDs, vectors: result.addedVectors)
                return result.outcomes
            }
        }
    }

    /// A stored document with its chunks, or nil.
    func document(id: Int64) async throws -> DocumentDetail? {
        try await offload { [store] in
            try store.pool.read { db in try DocumentDetail.fetch(db, id: id) }
        }
    }

    /// Deletes a document; returns the number of chunks removed, or nil when there was no such document.
    func deleteDocument(id: Int64) async throws -> Int? {
        try await offload { [self] in
            try writeLock.withLock { () throws -> Int? in
                let chunkIDs: [Int64]? = try store.pool.write { db in
                    guard try Bool.fetchOne(db, sql: "SELECT 1 FROM documents WHERE id = ?", arguments: [id]) != nil
                    else { return nil }
                    let chunks = try Int64.fetchAll(db, sql: "SELECT id FROM chunks WHERE document_id = ?", arguments: [id])
                    try DocumentStore.delete(db, documentID: id)
                    return chunks
                }
                guard let chunkIDs else { return nil }
                engine.remove(chunkIDs: chunkIDs)
                return chunkIDs.count
            }
        }
    }

    // MARK: - Operations

    /// Whether the database answers a query.
    func databaseIsReadable() async -> Bool {
        (try? await offload { [store] in try store.pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") } }) == 1
    }

    /// Row counts for the index-size gauges.
    func statistics() async throws -> KnowledgeStore.Statistics {
        try await offload { [store] in try store.statistics() }
    }
}
