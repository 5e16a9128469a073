/// Giving chunks that have no vector of a model one: the loop `kb ingest` (chunks stored with
/// `--no-embed`, or before the model was chosen) and `kb reembed` share.
extension KBDatabase {
    /// Embeds every chunk without a vector of `model`, `batchSize` at a time: each batch is read in
    /// a read transaction, embedded with no transaction open (searches and other writers go on),
    /// and written in a transaction of its own, so a crash loses at most one batch and a re-run
    /// continues.
    /// - Parameters:
    ///   - embed: the texts to embed (``EmbeddingText``) → one vector each, in order.
    ///   - progress: chunks embedded so far, after each batch.
    /// - Returns: the number of chunks embedded.
    @discardableResult
    public func fillMissingVectors(of model: EmbeddingModelRecord, batchSize: Int,
                                   embed: ([String]) throws -> [[Float]], progress: (Int) -> Void = { _ in }) throws -> Int {
        var total = 0
        while true {
            let pending = try read { try $0.chunksMissingVectors(of: model, limit: batchSize) }
            guard !pending.isEmpty else { return total }
            let vectors = try embed(pending.map(Self.embeddingText))
            try write { writer in
                for (chunk, vector) in zip(pending, vectors) {
                    try writer.putVector(vector, chunkID: chunk.chunkID, modelID: model.id)
                }
            }
            total += pending.count
            progress(total)
        }
    }

    static func embeddingText(_ chunk: (chunkID: Int64, title: String, headingPath: [String], text: String)) -> String {
        EmbeddingText.of(title: chunk.title, headingPath: chunk.headingPath, text: chunk.text)
    }
}

extension StoreWriter {
    /// As ``KBDatabase/fillMissingVectors(of:batchSize:embed:progress:)``, but inside this
    /// transaction (`kb reembed`'s switch: chunks written since its bulk pass, embedded while the
    /// writers wait).
    /// - Returns: the number of chunks embedded.
    @discardableResult
    public func fillMissingVectors(of model: EmbeddingModelRecord, batchSize: Int,
                                   embed: ([String]) throws -> [[Float]]) throws -> Int {
        var total = 0
        while case let pending = try chunksMissingVectors(of: model, limit: batchSize), !pending.isEmpty {
            for (chunk, vector) in zip(pending, try embed(pending.map(KBDatabase.embeddingText))) {
                try putVector(vector, chunkID: chunk.chunkID, modelID: model.id)
            }
            total += pending.count
        }
        return total
    }
}
