import GRDB

// MARK: - Reading vectors

extension StoreReader {
    /// The model whose vectors searches use, if any.
    public func activeEmbeddingModel() throws -> EmbeddingModelRecord? {
        try EmbeddingStore.activeModel(db)
    }

    /// The recorded model named `name`, if any.
    public func embeddingModel(named name: String) throws -> EmbeddingModelRecord? {
        try EmbeddingStore.model(db, name: name)
    }

    /// Every vector of a model: chunk ids and a row-major `[ids.count, dimensions]` matrix (rows of
    /// the wrong length are left out).
    public func allVectors(of model: EmbeddingModelRecord) throws -> (ids: [Int64], vectors: [Float]) {
        try EmbeddingStore.loadAll(db, model: model)
    }

    /// Vectors of the given chunks that have one of `model`.
    public func vectors(of model: EmbeddingModelRecord, chunkIDs: [Int64]) throws -> [Int64: [Float]] {
        try EmbeddingStore.vectors(db, model: model, chunkIDs: chunkIDs)
    }

    /// Up to `limit` chunks without a vector of `model`, lowest ids first, with the text to embed.
    public func chunksMissingVectors(of model: EmbeddingModelRecord, limit: Int) throws
        -> [(chunkID: Int64, title: String, headingPath: [String], text: String)] {
        try EmbeddingStore.chunksMissingVectors(db, model: model, limit: limit)
    }

    /// Number of chunks without a vector of `model`.
    public func missingVectorCount(of model: EmbeddingModelRecord) throws -> Int {
        try EmbeddingStore.missingCount(db, model: model)
    }
}

// MARK: - Writing vectors

extension StoreWriter {
    /// Stores (or replaces) one chunk's vector of a model.
    public func putVector(_ vector: [Float], chunkID: Int64, modelID: Int64) throws {
        try EmbeddingStore.put(db, chunkID: chunkID, modelID: modelID, vector: vector)
    }

    /// Makes the recorded model `name` the one searches use.
    public func activateEmbeddingModel(named name: String) throws {
        try EmbeddingStore.activate(db, name: name)
    }

    /// Deletes a model's record and every vector of it; returns the number of vectors deleted.
    @discardableResult
    public func deleteEmbeddingModel(id: Int64) throws -> Int {
        try EmbeddingStore.deleteModel(db, id: id)
    }
}
