import Foundation
import GRDB
import KBEmbedding
import KBStore

/// `kb reembed`: gives every chunk a vector of another embedding model, then makes that model the
/// one searches use.
///
/// The new vectors are written beside the old ones in batches (a crash loses at most one batch; a
/// re-run continues), so searches keep using the old model's vectors until the switch, which is
/// one transaction: it embeds any chunk added meanwhile, activates the new model and (unless kept)
/// deletes the old model's vectors. Re-embedding with the active model itself fills in missing
/// vectors; if that model's weights changed, its vectors are recomputed in place.
public struct Reembedder: Sendable {
    public struct Report: Sendable, Codable, Equatable {
        public var model: String
        public var previousModel: String?
        public var embedded: Int
        public var deletedVectors: Int
        public var seconds: Double

        enum CodingKeys: String, CodingKey {
            case model, previousModel = "previous_model", embedded, deletedVectors = "deleted_vectors", seconds
        }
    }

    public let store: KnowledgeStore
    public let embedder: any Embedder
    public var batchSize = 512
    /// Keep the previous model's vectors after switching.
    public var keepPrevious = false

    public init(store: KnowledgeStore, embedder: any Embedder) {
        self.store = store
        self.embedder = embedder
    }

    /// - Parameter progress: (chunks embedded so far, chunks that had no vector at the start).
    public func run(progress: (Int, Int) -> Void = { _, _ in }) throws -> Report {
        let started = Date()
        let (previous, model, deletedInPlace) = try store.pool.write { db -> (EmbeddingModelRecord?, EmbeddingModelRecord, Int) in
            let previous = try EmbeddingStore.activeModel(db)
            var deleted = 0
            if let stale = try EmbeddingStore.model(db, name: embedder.name),
               stale.fingerprint != embedder.fingerprint || stale.dimensions != embedder.dimensions {
                // Same name, other weights: those vectors are not comparable with new ones.
                deleted = try Int.fetchOne(db, sql: "SELECT count(*) FROM embeddings WHERE model_id = ?", arguments: [stale.id]) ?? 0
                try EmbeddingStore.deleteModel(db, id: stale.id)
            }
            let model = try EmbeddingStore.register(db, name: embedder.name, dimensions: embedder.dimensions,
                                                    fingerprint: embedder.fingerprint)
            if previous == nil || previous?.name == embedder.name { try EmbeddingStore.activate(db, name: embedder.name) }
            return (previous, model, deleted)
        }
        let total = try store.pool.read { db in try EmbeddingStore.missingCount(db, model: model) }
        var embedded = 0
        // Bulk of the work: outside the switching transaction, while the old vectors serve.
        while true {
            let pending = try store.pool.read { db in try EmbeddingStore.chunksMissingVectors(db, model: model, limit: batchSize) }
            guard !pending.isEmpty else { break }
            let vectors = try embed(pending)
            try store.pool.write { db in
                for (chunk, vector) in zip(pending, vectors) {
                    try EmbeddingStore.put(db, chunkID: chunk.chunkID, modelID: model.id, vector: vector)
                }
            }
            embedded += pending.count
            progress(embedded, total)
        }
        // The switch: catch up with chunks written meanwhile, then activate, in one transaction.
        var deleted = deletedInPlace
        try store.pool.write { db in
            while case let pending = try EmbeddingStore.chunksMissingVectors(db, model: model, limit: batchSize), !pending.isEmpty {
                for (chunk, vector) in zip(pending, try embed(pending)) {
                    try EmbeddingStore.put(db, chunkID: chunk.chunkID, modelID: model.id, vector: vector)
                }
                embedded += pending.count
            }
            try EmbeddingStore.activate(db, name: model.name)
            if let previous, previous.name != model.name, !keepPrevious {
                deleted += try Int.fetchOne(db, sql: "SELECT count(*) FROM embeddings WHERE model_id = ?", arguments: [previous.id]) ?? 0
                try EmbeddingStore.deleteModel(db, id: previous.id)
            }
        }
        return Report(model: model.name, previousModel: previous?.name, embedded: embedded, deletedVectors: deleted,
                      seconds: Date().timeIntervalSince(started))
    }

    private func embed(_ chunks: [(chunkID: Int64, title: String, headingPath: [String], text: String)]) throws -> [[Float]] {
        try embedder.embed(chunks.map { EmbeddingText.of(title: $0.title, headingPath: $0.headingPath, text: $0.text) },
                           kind: .passage)
    }
}
