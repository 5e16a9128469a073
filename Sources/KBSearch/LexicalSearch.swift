import Foundation
import KBStore

/// BM25 search over the FTS5 index.
public struct LexicalSearch: Sendable {
    /// BM25 column weights: title, heading path, body.
    public static let columnWeights = (title: 2.0, headings: 1.0, body: 1.0)
    public static let maxTopK = 1000

    private let store: KBDatabase

    public init(store: KBDatabase) { self.store = store }

    /// The `topK` best chunks for `query`. Any text is a valid query; one with no searchable
    /// characters returns no results.
    public func search(_ query: String, topK: Int, filters: SearchFilters = SearchFilters()) throws -> [SearchHit] {
        let terms = QueryTerms.parse(query)
        return try store.read { reader in
            try HitLoader.load(reader, try rank(reader, terms: terms, limit: topK, filters: filters), terms: terms)
        }
    }

    /// The FTS5 expression that ``search(_:topK:filters:)`` runs for `query` (for benchmarks).
    public func matchExpression(for query: String) throws -> String? {
        let terms = QueryTerms.parse(query)
        return try store.read { reader in
            QueryTerms.matchExpression(terms, common: try TermStatistics.commonWords(reader, terms: terms))
        }
    }

    /// Chunk ids and scores (negated BM25, higher is better), best first.
    func rank(_ store: StoreReader, terms: [QueryTerm], limit: Int, filters: SearchFilters) throws -> [RankedChunk] {
        let common = try TermStatistics.commonWords(store, terms: terms)
        guard let match = QueryTerms.matchExpression(terms, common: common), limit > 0 else { return [] }
        let rows = try store.bestChunks(match: match, columnWeights: Self.columnWeights, limit: min(limit, Self.maxTopK),
                                        filter: filters)
        return rows.enumerated().map { rank, row in
            RankedChunk(chunkID: row.chunkID, score: -row.bm25, lexicalRank: rank + 1, vectorRank: nil)
        }
    }
}
