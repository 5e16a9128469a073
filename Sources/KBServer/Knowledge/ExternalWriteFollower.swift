import Foundation
import KBSearch
import KBStore

/// Keeps the in-memory vector index in step with writes that another process (`kb ingest`,
/// `kb reembed`, a second server) makes to the same database file.
///
/// Detection: a connection of its own whose `PRAGMA data_version` changes whenever any other
/// connection commits. It is read at most once per ``interval``, by the search that finds the
/// interval over (so an idle server does nothing).
///
/// Update: incremental. The follower remembers, per chunk id, a signature of what the index holds
/// for it (the chunk's document and that document's content hash). On a change it reads the
/// current signatures (two covering-index scans: `chunks(document_id, ordinal)` and
/// `documents(content_hash)`, tens of milliseconds at 100k chunks), drops the vectors of vanished
/// or changed chunks and loads the vectors of new or changed ones only. SQLite reuses the largest
/// row ids after a delete, so a chunk id alone would not reveal a replaced chunk; its signature does.
///
/// The lexical side needs nothing: FTS5 is read from the database on every query, and the cached
/// term frequencies of ``KBSearch`` re-read themselves once the chunk count drifts.
///
/// Threading: ``refreshIfDue(engine:writes:)`` holds the server's write lock while it updates, so
/// the server's own writes and the follower's updates never interleave; a search that finds a
/// refresh already running does not wait for it.
final class ExternalWriteFollower: @unchecked Sendable {
    /// Seconds between checks of the database's change counter.
    let interval: Double
    private let store: KBDatabase
    private let watcher: StoreChangeCounter
    private let modelID: Int64?
    private let lock = NSLock()           // guards the fields below; held for a whole refresh
    private var lastCheck: ContinuousClock.Instant?
    private var lastVersion: Int
    private var signatures: [Int64: Int]  // chunk id -> hash of (document id, document content hash)
    private var refreshCount = 0
    private var lastAddedRemoved = (added: 0, removed: 0)

    /// Refreshes that found a change (for tests and logs).
    var refreshes: Int { lock.withLock { refreshCount } }
    /// The chunks the last refresh added and removed.
    var lastChange: (added: Int, removed: Int) { lock.withLock { lastAddedRemoved } }

    /// Reads the change counter and the signatures now: create the follower *before* loading the
    /// index, so that a write landing in between is seen as a change (and re-applied harmlessly).
    /// - Parameters:
    ///   - interval: seconds between checks (0: before every search).
    init(store: KBDatabase, interval: Double) throws {
        self.store = store
        self.interval = interval
        watcher = try store.changeCounter()
        lastVersion = try watcher.value()
        modelID = try store.activeEmbeddingModel()?.id
        signatures = try store.read { try $0.chunkSignatures() }
    }

    /// Brings `engine`'s vector index up to date when the interval is over and another connection
    /// committed since the last check. Returns at once when another refresh is running.
    /// - Parameter writes: the server's write lock (taken while the index is updated).
    func refreshIfDue(engine: SearchEngine, writes: NSLock) throws {
        guard engine.index != nil, let model = engine.model, model.id == modelID else { return }
        guard lock.try() else { return }
        defer { lock.unlock() }
        let now = ContinuousClock.now
        if let lastCheck, (now - lastCheck) < .seconds(interval) { return }
        lastCheck = now
        let version = try watcher.value()
        guard version != lastVersion else { return }
        try writes.withLock {
            // The signatures and vectors are read after `version`: a commit after this read
            // changes the counter again and is seen at the next check.
            let (current, vectors) = try store.read { reader -> ([Int64: Int], [Int64: [Float]]) in
                let current = try reader.chunkSignatures()
                let wanted = current.compactMap { id, signature in signatures[id] == signature ? nil : id }
                return (current, try reader.vectors(of: model, chunkIDs: wanted))
            }
            let removed = signatures.compactMap { id, signature in current[id] == signature ? nil : id }
            engine.remove(chunkIDs: removed)
            let ids = Array(vectors.keys)
            engine.add(chunkIDs: ids, vectors: ids.flatMap { vectors[$0]! })   // ids.count × dimensions
            signatures = current
            lastVersion = version
            refreshCount += 1
            lastAddedRemoved = (ids.count, removed.count)
        }
    }
}
