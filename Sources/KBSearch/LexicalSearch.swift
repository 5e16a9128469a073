import Foundation
import GRDB
import KBStore

/// BM25 search over the FTS5 index.
public struct LexicalSearch: Sendable {
    /// BM25 column weights: title, heading path, body.
    public static let columnWeights = (title: 2.0, headings: 1.0, body: 1.0)
    public static let maxTopK = 1000

    private let store: KnowledgeStore

    public init(store: KnowledgeStore) { self.store = store }

    /// The `topK` best chunks for `query`. Any text is a valid query; one with no searchable
    /// characters returns no results.
    public func search(_ query: String, topK: Int, filters: SearchFilters = SearchFilters()) throws -> [SearchHit] {
        let terms = QueryTerms.parse(query)
        return try store.pool.read { db in
            try HitLoader.load(db, try rank(db, terms: terms, limit: topK, filters: filters), terms: terms)
        }
    }

    /// The FTS5 expression that ``search(_:topK:filters:)`` runs for `query` (for benchmarks).
    public func matchExpression(for query: String) throws -> String? {
        let terms = QueryTerms.parse(query)
        return try store.pool.read { db in
            QueryTerms.matchExpression(terms, common: try TermStatistics.commonWords(db, terms: terms))
        }
    }

    /// Chunk ids and scores (negated BM25, higher is better), best first.
    func rank(_ db: Database, terms: [QueryTerm], limit: Int, filters: SearchFilters) throws -> [RankedChunk] {
        let common = try TermStatistics.commonWords(db, terms: terms)
        guard let match = QueryTerms.matchExpression(terms, common: common), limit > 0 else { return [] }
        let weights = Self.columnWeights
        var arguments: StatementArguments = [match]
        var restriction = ""
        if !filters.isEmpty {
            let (sql, filterArguments) = filters.condition()
            restriction = " AND rowid IN (SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id WHERE \(sql))"
            arguments += filterArguments
        }
        arguments += [min(limit, Self.maxTopK)]
        let rows = try Row.fetchAll(db, sql: """
            SELECT rowid, bm25(chunks_fts, \(weights.title), \(weights.headings), \(weights.body)) AS score
            FROM chunks_fts WHERE chunks_fts MATCH ?\(restriction) ORDER BY score LIMIT ?
            """, arguments: arguments)
        return rows.enumerated().map { rank, row in
            RankedChunk(chunkID: row[0], score: -(row[1] as Double), lexicalRank: rank + 1, vectorRank: nil)
        }
    }
}
