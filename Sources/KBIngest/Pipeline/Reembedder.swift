import Foundation
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

    public let store: KBDatabase
    public let embedder: any Embedder
    public var batchSize = 512
    /// Keep the previous model's vectors after switching.
    public var keepPrevious = false

    public init(store: KBDatabase, embedder: any Embedder) {
        self.store = store
        self.embedder = embedder
    }

    /// - Parameter progress: (chunks embedded so far, chunks that had no vector at the start).
    public func run(progress: (Int, Int) -> Void = { _, _ in }) throws -> Report {
        let started = Date()
        let registration = try store.write { writer in
            try writer.registerEmbeddingModel(name: embedder.name, dimensions: embedder.dimensions,
                                              fingerprint: embedder.fingerprint, activation: .replaceStale)
        }
        let previous = registration.previousActive
        guard let model = registration.model else { preconditionFailure("replaceStale always records the model") }
        let total = try store.read { try $0.missingVectorCount(of: model) }
        // Bulk of the work: outside the switching transaction, while the old vectors serve.
        var embedded = try store.fillMissingVectors(of: model, batchSize: batchSize, embed: embed) { progress($0, total) }
        // The switch: catch up with chunks written meanwhile, then activate, in one transaction.
        var deleted = registration.deletedVectors
        try store.write { writer in
            embedded += try writer.fillMissingVectors(of: model, batchSize: batchSize, embed: embed)
            try writer.activateEmbeddingModel(named: model.name)
            if let previous, previous.name != model.name, !keepPrevious {
                deleted += try writer.deleteEmbeddingModel(id: previous.id)
            }
        }
        return Report(model: model.name, previousModel: previous?.name, embedded: embedded, deletedVectors: deleted,
                      seconds: Date().timeIntervalSince(started))
    }

    private func embed(_ texts: [String]) throws -> [[Float]] {
        try embedder.embed(texts, kind: .passage)
    }
}
