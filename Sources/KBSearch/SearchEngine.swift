import Foundation
import KBEmbedding
import KBIndex
import KBStore

/// How results are found.
public enum SearchMode: String, Sendable, CaseIterable, Codable {
    /// Lexical and vector results fused (``SearchEngine/Fusion``: by score, or by reciprocal rank).
    case hybrid
    /// Nearest chunks by embedding similarity.
    case vector
    /// BM25 over the full-text index.
    case lexical
}

/// Why a search cannot run.
public enum SearchError: Error, CustomStringConvertible, Equatable {
    case noVectors(String)
    case modelMismatch(active: String, loaded: String)

    public var description: String {
        switch self {
        case .noVectors(let why): return why
        case .modelMismatch(let active, let loaded):
            return "this knowledge base's vectors come from \(active), but the loaded embedding model is \(loaded)"
        }
    }
}

/// Searches one knowledge base in any ``SearchMode``: holds the vector index of the active embedding
/// model in memory (loaded once; kept current with ``add(chunkIDs:vectors:)``/``remove(chunkIDs:)``),
/// and the embedder that turns queries into vectors.
public final class SearchEngine: @unchecked Sendable {
    /// How hybrid search fuses its two lists (``HybridFusion``).
    public struct Fusion: Sendable, Equatable {
        /// Score fusion (default) or reciprocal rank fusion.
        public var method: FusionMethod = .score
        /// Weights of the two lists (both methods).
        public var lexicalWeight: Double = 1
        public var vectorWeight: Double = 1
        /// Score fusion: the vector rank whose cosine normalizes to 0 (fixed, so a result's score does
        /// not depend on how many results were asked for; 50 is the smallest list depth).
        public var vectorNormalizationDepth = 50
        /// Reciprocal rank fusion's k (60, the value of the original paper).
        public var k: Double = 60
        /// Results taken from each list before fusing, as a multiple of the requested count (at least 50).
        public var depthFactor = 4
        /// Vector results less similar than this (cosine) do not enter the fusion. Without it a
        /// query about something the base does not contain would still get its nearest chunks;
        /// all-MiniLM-L6-v2 scores unrelated text about 0.0-0.2 and paraphrases from about 0.3.
        public var minimumVectorSimilarity: Float = 0.25

        public init(method: FusionMethod = .score, lexicalWeight: Double = 1, vectorWeight: Double = 1, k: Double = 60,
                    minimumVectorSimilarity: Float = 0.25) {
            self.method = method
            self.lexicalWeight = lexicalWeight
            self.vectorWeight = vectorWeight
            self.k = k
            self.minimumVectorSimilarity = minimumVectorSimilarity
        }
    }

    public let store: KBDatabase
    public let embedder: (any Embedder)?
    /// The active model's vectors, or nil when the base has none (lexical search only).
    public let index: FlatVectorIndex?
    public let model: EmbeddingModelRecord?
    public var precision: FlatVectorIndex.Precision = .float32
    public var fusion = Fusion()

    /// Loads the vectors of the base's active embedding model.
    /// - Parameter embedder: the model that embeds queries; it must be the base's active model.
    /// - Throws: ``SearchError/modelMismatch(active:loaded:)``, or database errors.
    public init(store: KBDatabase, embedder: (any Embedder)?) throws {
        self.store = store
        self.embedder = embedder
        let active = try store.activeEmbeddingModel()
        guard let active, let embedder else {
            model = nil
            index = nil
            return
        }
        guard active.name == embedder.name, active.dimensions == embedder.dimensions else {
            throw SearchError.modelMismatch(active: active.name, loaded: embedder.name)
        }
        guard active.fingerprint == embedder.fingerprint else {
            throw EmbeddingStoreError.fingerprintMismatch(model: active.name, stored: active.fingerprint,
                                                          loaded: embedder.fingerprint)
        }
        let (ids, vectors) = try store.read { try $0.allVectors(of: active) }
        let index = FlatVectorIndex(dimensions: active.dimensions)
        vectors.withUnsafeBufferPointer { index.upsert(ids: ids, vectors: $0) }
        self.model = active
        self.index = index
    }

    /// Whether vector and hybrid search are available.
    public var hasVectors: Bool { index.map { $0.count > 0 } ?? false }

    /// The mode a search asked for `requested` runs in: a hybrid search on a base without vectors
    /// runs lexically (the one place this fallback is decided; callers report the mode that ran).
    public func modeToRun(_ requested: SearchMode) -> SearchMode {
        requested == .hybrid && !hasVectors ? .lexical : requested
    }

    /// The best `topK` results for `query`.
    /// - Throws: ``SearchError/noVectors(_:)`` for vector search on a base without vectors.
    /// - Parameter snippets: build highlighted snippets (callers that only need ids can skip them).
    public func search(_ query: String, mode: SearchMode, topK: Int, filters: SearchFilters = SearchFilters(),
                       snippets: Bool = true) throws -> [SearchHit] {
        guard topK > 0 else { return [] }
        let terms = QueryTerms.parse(query)
        let effectiveMode = modeToRun(mode)
        if effectiveMode == .vector && !hasVectors {
            throw SearchError.noVectors("this knowledge base has no vectors: run `kb ingest` with an embedding model "
                                        + "(the default) or `kb reembed`")
        }
        let depth = max(50, topK * fusion.depthFactor)
        let queryVector: [Float]? = (effectiveMode == .lexical || query.allSatisfy(\.isWhitespace))
            ? nil : try embedder?.embed([query], kind: .query).first
        return try store.read { reader in
            let allowed = try reader.chunkIDs(allowedBy: filters)
            var ranked: [RankedChunk]
            switch effectiveMode {
            case .lexical:
                ranked = try LexicalSearch(store: store).rank(reader, terms: terms, limit: depth, filters: filters)
            case .vector:
                ranked = vectorRank(queryVector, limit: depth, allowed: allowed)
            case .hybrid:
                let similar = vectorRank(queryVector, limit: depth, allowed: allowed)
                    .filter { $0.score >= Double(fusion.minimumVectorSimilarity) }
                let lexical = try LexicalSearch(store: store).rank(reader, terms: terms, limit: depth, filters: filters)
                ranked = try fuse(reader, terms: terms, lexical: lexical, vector: similar)
            }
            let hits = try HitLoader.load(reader, ranked, terms: snippets ? terms : nil)
            return Array(try HitLoader.mergeOverlapping(reader, hits, terms: snippets ? terms : nil).prefix(topK))
        }
    }

    /// Adds or replaces vectors of the active model (e.g. after documents were written).
    public func add(chunkIDs: [Int64], vectors: [Float]) {
        vectors.withUnsafeBufferPointer { index?.upsert(ids: chunkIDs, vectors: $0) }
    }

    /// Drops vectors of deleted chunks.
    public func remove(chunkIDs: [Int64]) { index?.remove(ids: chunkIDs) }

    private func vectorRank(_ query: [Float]?, limit: Int, allowed: Set<Int64>?) -> [RankedChunk] {
        guard let query, let index else { return [] }
        var filter: (@Sendable (Int64) -> Bool)?
        if let allowed {
            filter = { @Sendable id in allowed.contains(id) }
        }
        return index.search(query, k: limit, precision: precision, allowed: filter).enumerated().map { rank, neighbor in
            RankedChunk(chunkID: neighbor.id, score: Double(neighbor.score), lexicalRank: nil, vectorRank: rank + 1)
        }
    }

    /// The two lists fused by ``fusion``'s method.
    func fuse(_ store: StoreReader, terms: [QueryTerm], lexical: [RankedChunk], vector: [RankedChunk]) throws -> [RankedChunk] {
        switch fusion.method {
        case .score:
            let coverage = try LexicalCoverage.of(store, terms: terms, chunkIDs: lexical.map(\.chunkID))
            return HybridFusion.scores(lexical: lexical, coverage: coverage, vector: vector,
                                       lexicalWeight: fusion.lexicalWeight, vectorWeight: fusion.vectorWeight,
                                       normalizationDepth: fusion.vectorNormalizationDepth)
        case .rrf:
            return HybridFusion.reciprocalRank(lexical: lexical, vector: vector, lexicalWeight: fusion.lexicalWeight,
                                               vectorWeight: fusion.vectorWeight, k: fusion.k)
        }
    }
}
