import Foundation
import GRDB

/// An embedding model as recorded in the database.
public struct EmbeddingModelRecord: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var dimensions: Int
    public var fingerprint: String
}

/// Errors about stored embeddings.
public enum EmbeddingStoreError: Error, CustomStringConvertible, Equatable {
    /// The database holds vectors of a model with this name but made by other weights.
    case fingerprintMismatch(model: String, stored: String, loaded: String)
    /// Vectors of one model must all have the same length.
    case dimensionMismatch(model: String, stored: Int, loaded: Int)
    /// The base searches with vectors of another model (``EmbeddingModelActivation/activate``).
    case otherActiveModel(active: String, requested: String)

    public var description: String {
        switch self {
        case .fingerprintMismatch(let model, let stored, let loaded):
            return "the stored vectors of \(model) were made by other weights (fingerprint \(stored.prefix(12))…, "
                + "loaded \(loaded.prefix(12))…); run `kb reembed --model \(model)` to recompute them"
        case .dimensionMismatch(let model, let stored, let loaded):
            return "\(model) has \(stored)-dimensional vectors stored but the loaded model makes \(loaded)"
        case .otherActiveModel(let active, let requested):
            return "this knowledge base searches with \(active), not \(requested)"
        }
    }
}

/// Reads and writes `embedding_models`, `embeddings` and the active model setting.
enum EmbeddingStore {
    /// The model whose vectors searches use, if any.
    static func activeModel(_ db: Database) throws -> EmbeddingModelRecord? {
        guard let name = try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'active_embedding_model'")
        else { return nil }
        return try model(db, name: name)
    }

    static func model(_ db: Database, name: String) throws -> EmbeddingModelRecord? {
        try Row.fetchOne(db, sql: "SELECT id, name, dimensions, fingerprint FROM embedding_models WHERE name = ?",
                         arguments: [name]).map { EmbeddingModelRecord(id: $0[0], name: $0[1], dimensions: $0[2], fingerprint: $0[3]) }
    }

    /// The record for a loaded model, created on first use. Refuses a model whose stored vectors were
    /// made by different weights or have another length.
    static func register(_ db: Database, name: String, dimensions: Int, fingerprint: String) throws -> EmbeddingModelRecord {
        if let existing = try model(db, name: name) {
            guard existing.fingerprint == fingerprint else {
                throw EmbeddingStoreError.fingerprintMismatch(model: name, stored: existing.fingerprint, loaded: fingerprint)
            }
            guard existing.dimensions == dimensions else {
                throw EmbeddingStoreError.dimensionMismatch(model: name, stored: existing.dimensions, loaded: dimensions)
            }
            return existing
        }
        try db.execute(sql: """
            INSERT INTO embedding_models(name, dimensions, fingerprint, created_at)
            VALUES (?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
            """, arguments: [name, dimensions, fingerprint])
        return EmbeddingModelRecord(id: db.lastInsertedRowID, name: name, dimensions: dimensions, fingerprint: fingerprint)
    }

    /// Makes `name` the model searches use.
    static func activate(_ db: Database, name: String) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO settings(key, value) VALUES ('active_embedding_model', ?)", arguments: [name])
    }

    /// Stores one vector (float32, little-endian).
    static func put(_ db: Database, chunkID: Int64, modelID: Int64, vector: [Float]) throws {
        let blob = vector.withUnsafeBufferPointer { Data(buffer: $0) }
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO embeddings(chunk_id, model_id, vector) VALUES (?, ?, ?)")
            .execute(arguments: [chunkID, modelID, blob])
    }

    /// Every vector of a model: chunk ids and a row-major `[ids.count, dimensions]` matrix.
    static func loadAll(_ db: Database, model: EmbeddingModelRecord) throws -> (ids: [Int64], vectors: [Float]) {
        var ids: [Int64] = []
        var vectors: [Float] = []
        let count = try Int.fetchOne(db, sql: "SELECT count(*) FROM embeddings WHERE model_id = ?", arguments: [model.id]) ?? 0
        ids.reserveCapacity(count)
        vectors.reserveCapacity(count * model.dimensions)
        let rows = try Row.fetchCursor(db, sql: "SELECT chunk_id, vector FROM embeddings WHERE model_id = ?",
                                       arguments: [model.id])
        let bytes = model.dimensions * MemoryLayout<Float>.size
        while let row = try rows.next() {
            try row.withUnsafeData(atIndex: 1) { (blob: Data?) in
                guard let blob, blob.count == bytes else { return }   // a damaged row is left out
                ids.append(row[0])
                blob.withUnsafeBytes { raw in vectors.append(contentsOf: raw.bindMemory(to: Float.self)) }
            }
        }
        return (ids, vectors)
    }

    /// Vectors of the given chunks, for re-ranking or tests.
    static func vectors(_ db: Database, model: EmbeddingModelRecord, chunkIDs: [Int64]) throws -> [Int64: [Float]] {
        var out: [Int64: [Float]] = [:]
        let statement = try db.cachedStatement(sql: "SELECT vector FROM embeddings WHERE chunk_id = ? AND model_id = ?")
        for id in chunkIDs {
            if let blob = try Data.fetchOne(statement, arguments: [id, model.id]) {
                out[id] = blob.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            }
        }
        return out
    }

    /// Up to `limit` chunks that have no vector of `model` yet, with the text to embed.
    static func chunksMissingVectors(_ db: Database, model: EmbeddingModelRecord, limit: Int)
        throws -> [(chunkID: Int64, title: String, headingPath: [String], text: String)] {
        try Row.fetchAll(db, sql: """
            SELECT c.id, d.title, c.heading_path, c.text FROM chunks c JOIN documents d ON d.id = c.document_id
            WHERE NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.chunk_id = c.id AND e.model_id = ?)
            ORDER BY c.id LIMIT ?
            """, arguments: [model.id, limit]).map { ($0[0], $0[1], HeadingPath.decode($0[2]), $0[3]) }
    }

    /// Number of chunks without a vector of `model`.
    static func missingCount(_ db: Database, model: EmbeddingModelRecord) throws -> Int {
        try Int.fetchOne(db, sql: """
            SELECT count(*) FROM chunks c
            WHERE NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.chunk_id = c.id AND e.model_id = ?)
            """, arguments: [model.id]) ?? 0
    }

    /// Deletes every vector of a model and its record; returns the number of vectors deleted.
    @discardableResult
    static func deleteModel(_ db: Database, id: Int64) throws -> Int {
        try db.execute(sql: "DELETE FROM embeddings WHERE model_id = ?", arguments: [id])
        let vectors = db.changesCount
        try db.execute(sql: "DELETE FROM embedding_models WHERE id = ?", arguments: [id])
        return vectors
    }
}

/// The text given to the embedding model for a chunk: the document title and heading path give a
/// chunk its context (a chunk under "Install › Linux" rarely says either word itself).
public enum EmbeddingText {
    public static func of(title: String, headingPath: [String], text: String) -> String {
        var context = [String]()
        if !title.isEmpty { context.append(title) }
        for heading in headingPath where heading != title { context.append(heading) }
        return context.isEmpty ? text : context.joined(separator: " › ") + "\n" + text
    }
}
