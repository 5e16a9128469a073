import Foundation
import KBEmbedding
import KBIngest
import KBSearch
import KBStore
import KBSupport
import NIOConcurrencyHelpers
import NIOPosix

/// The knowledge base as the server uses it: searches, document reads, and writes that keep the
/// in-memory vector index current. Database and BLAS work is blocking, so every call runs on NIO's
/// thread pool, never on the event loops or the Swift concurrency pool.
///
/// Threading: any number of searches run at once (SQLite WAL readers, the index's shared lock);
/// writes are serialized by ``writeLock`` so the index follows the database in commit order. The
/// lock is held for the transaction and the index update only: an upload is chunked and embedded
/// before it. A search during a write sees the database before or after the commit; a chunk it
/// ranked that was deleted meanwhile is left out of its results (the hit loader skips missing rows).
/// Work whose caller is cancelled stops inside SQLite (``offload(_:)``).
///
/// Writes by other processes to the same file are followed too (``ExternalWriteFollower``): a
/// search first brings the vector index up to date when the database changed, at most once per
/// `refreshInterval`.
public final class KnowledgeBase: Sendable {
    public let store: KBDatabase
    public let engine: SearchEngine
    private let pipeline: IngestPipeline
    private let writeLock = NSLock()
    private let follower: ExternalWriteFollower
    private let threadPool: NIOThreadPool
    /// Seconds the start-up integrity check (`PRAGMA quick_check`) took.
    public let integrityCheckSeconds: Double

    /// - Parameters:
    ///   - store: opened read-write.
    ///   - embedder: the base's embedding model (nil: lexical search only, no vectors for new documents).
    ///   - chunker: splits posted documents, as `kb ingest` does.
    ///   - refreshInterval: seconds between checks for writes by other processes (0: every search).
    /// - Throws: ``StoreError/corrupt(path:reason:)`` when the file fails `PRAGMA quick_check`
    ///   (``KBDatabase/requireIntact()``, run first: a damaged file is never served);
    ///   ``SearchError``/``EmbeddingStoreError`` when the embedder is not the base's model.
    public init(store: KBDatabase, embedder: (any Embedder)?, chunker: Chunker, refreshInterval: Double = 1,
                threadPool: NIOThreadPool = .singleton) throws {
        let checkStarted = ContinuousClock.now
        try store.requireIntact()
        let checked = ContinuousClock.now - checkStarted
        self.integrityCheckSeconds = checked.seconds
        if let embedder {
            // A new base gets the model now, so the index exists before the first document arrives.
            _ = try store.write { writer in
                try writer.registerEmbeddingModel(name: embedder.name, dimensions: embedder.dimensions,
                                                  fingerprint: embedder.fingerprint, activation: .activateIfNoneActive)
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

    /// Runs blocking work off the event loops. When the calling task is cancelled (its request timed
    /// out, or the client left) the work's SQLite statements are interrupted (``StoreInterrupt``)
    /// and it throws `CancellationError`. Corruption and full-disk errors are remembered in the
    /// store's ``StoreHealth`` and thrown as ``StoreError``.
    func offload<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        let interrupt = StoreInterrupt()
        do {
            return try await withTaskCancellationHandler {
                try await threadPool.runIfActive { try interrupt.run(work) }
            } onCancel: {
                interrupt.cancel()
            }
        } catch {
            throw store.health.record(error)
        }
    }

    /// Runs a write under ``writeLock`` (off the event loops, interruptible as ``offload(_:)``). A
    /// write that `stored` says added rows tells the store's health that the disk has room again.
    private func offloadWrite<T: Sendable>(stored: @escaping @Sendable (T) -> Bool,
                                           _ write: @escaping @Sendable () throws -> T) async throws -> T {
        let result = try await offload { [writeLock] in
            try writeLock.withLock {
                try StoreInterrupt.checkCurrent()   // cancelled while waiting for the lock: write nothing
                return try write()
            }
        }
        if stored(result) { store.health.writeCommitted() }
        return result
    }

    // MARK: - Search

    /// Searches; a hybrid search on a base without vectors runs lexically.
    /// - Returns: the hits and the mode that ran.
    func search(_ query: String, mode: SearchMode, topK: Int, filters: SearchFilters) async throws
        -> (hits: [SearchHit], mode: SearchMode) {
        try await offload { [engine, follower, writeLock] in
            try follower.refreshIfDue(engine: engine, writes: writeLock)
            let effective = engine.modeToRun(mode)
            return (try engine.search(query, mode: effective, topK: topK, filters: filters), effective)
        }
    }

    /// Refreshes made after writes by other processes, and the chunks the last one added and removed.
    var externalRefreshes: (count: Int, lastAdded: Int, lastRemoved: Int) {
        (follower.refreshes, follower.lastChange.added, follower.lastChange.removed)
    }

    // MARK: - Documents

    /// Stores records and updates the vector index. Hashing, chunking and embedding run first,
    /// without the write lock (searches, deletes and other uploads go on meanwhile); only the
    /// transaction and the index update hold it.
    func ingest(_ records: [JSONLinesReader.Record]) async throws -> [RecordOutcome] {
        let prepared = try await offload { [pipeline] in
            try pipeline.prepare(records: records, namespace: .api, sourcePath: "api")
        }
        return try await offloadWrite(stored: { $0.contains { $0.status == .added || $0.status == .updated } }) {
            [pipeline, engine] in
            let result = try pipeline.commit(prepared)
            engine.remove(chunkIDs: result.removedChunkIDs)
            engine.add(chunkIDs: result.addedChunkIDs, vectors: result.addedVectors)
            return result.outcomes
        }
    }

    /// A stored document with its chunks, or nil.
    func document(id: Int64) async throws -> DocumentDetail? {
        try await offload { [store] in
            try store.read { try DocumentDetail.fetch($0, id: id) }
        }
    }

    /// Deletes a document posted to the API; returns the number of chunks removed, or nil when there
    /// was no such document.
    /// - Throws: ``APIError`` 409 `not_an_api_document` for a document of `kb ingest` (the API writes
    ///   only its own namespace, ``DocumentNamespace/api``; such a document goes when its file is
    ///   removed and `kb ingest --prune` runs).
    func deleteDocument(id: Int64) async throws -> Int? {
        try await offloadWrite(stored: { $0 != nil }) { [store, engine] () throws -> Int? in
            let chunkIDs: [Int64]? = try store.write { writer in
                guard let owner = try writer.documentOwner(id: id) else { return nil }
                guard owner.namespace == .api else {
                    throw APIError(.conflict, "not_an_api_document",
                                   "document \(id) was ingested by kb ingest from \(owner.sourcePath), not posted to the API; "
                                   + "the API deletes only its own documents (remove the file and run kb ingest --prune)")
                }
                let chunks = try writer.chunkIDs(documentID: id)
                try writer.deleteDocument(id: id)
                return chunks
            }
            guard let chunkIDs else { return nil }
            engine.remove(chunkIDs: chunkIDs)
            return chunkIDs.count
        }
    }

    // MARK: - Operations

    /// Corruption or a full disk met by any request since the start (a full disk clears when a later
    /// write commits); empty when healthy.
    var storeProblems: [StoreHealth.Problem] { store.health.problems }

    /// Whether the database answers a query.
    func databaseIsReadable() async -> Bool {
        (try? await offload { [store] in try store.requireReadable(); return true }) == true
    }

    /// Row counts for the index-size gauges.
    func statistics() async throws -> KBDatabase.Statistics {
        try await offload { [store] in try store.statistics() }
    }
}
