import GRDB

/// When a loaded embedding model becomes the one searches use. The one place these rules live:
/// each writer of vectors names its rule instead of repeating the steps.
public enum EmbeddingModelActivation: Sendable {
    /// `kb ingest`: the model becomes active; refused with ``EmbeddingStoreError/otherActiveModel(active:requested:)``
    /// when the base searches with another model.
    case activate
    /// `kb serve`: recorded and activated only when the base has no active model yet (a new base
    /// gets its vector index before the first document arrives); otherwise nothing is written.
    case activateIfNoneActive
    /// `kb reembed`: a recorded model of the same name made by other weights or of another length is
    /// deleted with its vectors first; the model becomes active only when no model or the same
    /// model is active (another active model keeps serving until the reembedding switches over).
    case replaceStale
}

/// What ``StoreWriter/registerEmbeddingModel(name:dimensions:fingerprint:activation:)`` did.
public struct EmbeddingModelRegistration: Sendable, Equatable {
    /// The model's record; nil when ``EmbeddingModelActivation/activateIfNoneActive`` found another
    /// model active and recorded nothing.
    public var model: EmbeddingModelRecord?
    /// The model that was active before.
    public var previousActive: EmbeddingModelRecord?
    /// Vectors deleted because a model of the same name had other weights (``EmbeddingModelActivation/replaceStale``).
    public var deletedVectors: Int
}

extension StoreWriter {
    /// Records a loaded embedding model (created on first use) and activates it by `activation`'s rule.
    /// - Parameters:
    ///   - name, dimensions, fingerprint: the loaded model's (`Embedder`'s) identity.
    /// - Throws: ``EmbeddingStoreError/otherActiveModel(active:requested:)`` (``EmbeddingModelActivation/activate``);
    ///   ``EmbeddingStoreError/fingerprintMismatch(model:stored:loaded:)`` or
    ///   ``EmbeddingStoreError/dimensionMismatch(model:stored:loaded:)`` when a model of this name was
    ///   recorded with other weights or length (except with ``EmbeddingModelActivation/replaceStale``).
    public func registerEmbeddingModel(name: String, dimensions: Int, fingerprint: String,
                                       activation: EmbeddingModelActivation) throws -> EmbeddingModelRegistration {
        let previous = try EmbeddingStore.activeModel(db)
        var deleted = 0
        switch activation {
        case .activate:
            if let previous, previous.name != name {
                throw EmbeddingStoreError.otherActiveModel(active: previous.name, requested: name)
            }
        case .activateIfNoneActive:
            if previous != nil { return EmbeddingModelRegistration(model: nil, previousActive: previous, deletedVectors: 0) }
        case .replaceStale:
            if let stale = try EmbeddingStore.model(db, name: name),
               stale.fingerprint != fingerprint || stale.dimensions != dimensions {
                // Same name, other weights: those vectors are not comparable with new ones.
                deleted = try EmbeddingStore.deleteModel(db, id: stale.id)
            }
        }
        let model = try EmbeddingStore.register(db, name: name, dimensions: dimensions, fingerprint: fingerprint)
        if activation != .replaceStale || previous == nil || previous?.name == name {
            try EmbeddingStore.activate(db, name: name)
        }
        return EmbeddingModelRegistration(model: model, previousActive: previous, deletedVectors: deleted)
    }
}
