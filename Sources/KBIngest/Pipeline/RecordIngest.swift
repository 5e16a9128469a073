import Foundation
import KBStore
import KBSupport

/// What storing one in-memory record did (the HTTP documents API answers with these).
public struct RecordOutcome: Sendable, Equatable, Codable {
    public enum Status: String, Sendable, Codable {
        case added, updated, unchanged, skipped
    }

    /// The record's id: the stored document's `uri`.
    public var id: String
    /// The stored document's row id (nil when skipped).
    public var documentID: Int64?
    public var status: Status
    /// Chunks stored for the document (0 when unchanged or skipped).
    public var chunks: Int
    /// Why the record was skipped.
    public var reason: String?

    enum CodingKeys: String, CodingKey {
        case id, documentID = "document_id", status, chunks, reason
    }
}

/// The result of ``IngestPipeline/ingest(records:namespace:sourcePath:)``: per-record outcomes, and the chunk
/// rows that changed so an in-memory vector index can follow without reloading.
public struct RecordIngestResult: Sendable {
    public var outcomes: [RecordOutcome]
    /// Chunks deleted because their document was replaced.
    public var removedChunkIDs: [Int64]
    /// New chunks that got a vector, and their vectors: `[addedChunkIDs.count, dimensions]` row-major.
    public var addedChunkIDs: [Int64]
    public var addedVectors: [Float]
}

/// Records hashed, chunked and embedded by ``IngestPipeline/prepare(records:namespace:sourcePath:)``, ready for
/// ``IngestPipeline/commit(_:)``. Preparing is the slow part (the embedding model) and takes no lock
/// and no transaction, so a server can run it while other writes commit.
public struct PreparedRecords: Sendable {
    let records: [JSONLinesReader.Record]
    let namespace: DocumentNamespace
    let sourcePath: String
    let results: [IngestPipeline.ItemResult]
    let model: EmbeddingModelRecord?
}

extension IngestPipeline {
    /// Stores records that arrived in memory (e.g. an HTTP request) through the same steps as files:
    /// hash, skip if unchanged, chunk, embed, and write, all records in one transaction.
    /// ``prepare(records:namespace:sourcePath:)`` then ``commit(_:)``.
    ///
    /// - Parameters:
    ///   - records: parsed JSON Lines records; their ids must be distinct.
    ///   - namespace: whose uris the record ids are: a record replaces only a document of this namespace.
    ///   - sourcePath: recorded as the documents' source (e.g. `"api"`); `--prune` never matches it.
    /// - Throws: database and embedding errors; nothing is written then.
    public func ingest(records: [JSONLinesReader.Record], namespace: DocumentNamespace = .api,
                       sourcePath: String) throws -> RecordIngestResult {
        try commit(try prepare(records: records, namespace: namespace, sourcePath: sourcePath))
    }

    /// Hashes, chunks and embeds records without writing any document: records whose stored version
    /// has the same record hash are only noted as unchanged.
    /// - Parameters: as ``ingest(records:namespace:sourcePath:)``.
    /// - Throws: embedding errors, and ``IngestError/otherActiveModel(active:requested:)``.
    public func prepare(records: [JSONLinesReader.Record], namespace: DocumentNamespace = .api,
                        sourcePath: String) throws -> PreparedRecords {
        let model = try registerEmbedder()
        var results = ParallelMap.map(Array(records.enumerated()), threads: options.threads) { pair in
            self.prepare(pair.element.document, namespace: namespace, uri: pair.element.id, sourcePath: sourcePath,
                         location: "record \(pair.offset + 1)", dedupe: false, warning: nil)
        }
        _ = try embed(&results)
        return PreparedRecords(records: records, namespace: namespace, sourcePath: sourcePath, results: results,
                               model: model)
    }

    /// Writes prepared records in one transaction. A record found unchanged while preparing but
    /// changed or deleted since (by a write that committed in between) is chunked and embedded now,
    /// inside the transaction, so the outcome is always that of the database as committed.
    /// - Throws: database and embedding errors; nothing is written then.
    public func commit(_ prepared: PreparedRecords) throws -> RecordIngestResult {
        let model = prepared.model
        return try store.write { writer in
            var outcome = RecordIngestResult(outcomes: [], removedChunkIDs: [], addedChunkIDs: [], addedVectors: [])
            for (index, record) in prepared.records.enumerated() {
                var result = prepared.results[index]
                if case .unchanged(let uri, let location) = result {
                    let stored = try writer.documentState(namespace: prepared.namespace, uri: uri)
                    let current = record.document
                    let expected = recordHash(current, uri: uri, sourcePath: prepared.sourcePath,
                                              contentHash: ContentHash.sha256Hex(current.text))
                    if stored?.recordHash != expected {
                        var fresh = [prepare(current, namespace: prepared.namespace, uri: uri,
                                             sourcePath: prepared.sourcePath, location: location, dedupe: false,
                                             warning: nil, storedRecordHash: stored?.recordHash)]
                        _ = try embed(&fresh)
                        result = fresh[0]
                    }
                }
                switch result {
                case .document(let document, _, _, _):
                    let staleChunkIDs = try writer.documentState(namespace: document.namespace, uri: document.uri)
                        .map { try writer.chunkIDs(documentID: $0.id) } ?? []
                    let stored = try writer.put(document, embeddingModelID: model?.id)
                    let (id, status): (Int64, RecordOutcome.Status)
                    switch stored {
                    case .added(let documentID): (id, status) = (documentID, .added)
                    case .updated(let documentID): (id, status) = (documentID, .updated)
                    case .unchanged(let documentID): (id, status) = (documentID, .unchanged)
                    }
                    if status != .unchanged { outcome.removedChunkIDs += staleChunkIDs }
                    if status != .unchanged, model != nil {
                        let ids = try writer.chunkIDs(documentID: id)
                        for (chunkID, chunk) in zip(ids, document.chunks) {
                            guard let vector = chunk.embedding else { continue }
                            outcome.addedChunkIDs.append(chunkID)
                            outcome.addedVectors += vector
                        }
                    }
                    outcome.outcomes.append(RecordOutcome(id: record.id, documentID: id, status: status,
                                                          chunks: status == .unchanged ? 0 : document.chunks.count))
                case .unchanged(let uri, _):
                    let id = try writer.documentState(namespace: prepared.namespace, uri: uri)?.id
                    outcome.outcomes.append(RecordOutcome(id: record.id, documentID: id, status: .unchanged, chunks: 0))
                case .skipped(_, let reason, _), .failed(_, let reason, _):
                    outcome.outcomes.append(RecordOutcome(id: record.id, documentID: nil, status: .skipped, chunks: 0,
                                                          reason: reason))
                }
            }
            return outcome
        }
    }
}
