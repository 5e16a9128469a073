import Foundation
import GRDB
import KBStore

/// One search result: a chunk and the document it belongs to.
public struct SearchHit: Sendable, Equatable, Codable {
    /// The document's source path, or its `url` (else `id`) for JSON Lines input.
    public var uri: String
    public var title: String
    /// Higher is better. For lexical search: the negated FTS5 BM25 score.
    public var score: Double
    /// The chunk text.
    public var text: String
    public var snippet: Snippet
    public var documentID: Int64
    public var chunkID: Int64
    public var ordinal: Int
    /// Unicode scalar offsets of the chunk in the document text.
    public var startOffset: Int
    public var endOffset: Int
    public var headingPath: [String]

    enum CodingKeys: String, CodingKey {
        case uri, title, score, text, snippet
        case documentID = "document_id", chunkID = "chunk_id", ordinal
        case startOffset = "start_offset", endOffset = "end_offset", headingPath = "heading_path"
    }
}

/// BM25 search over the FTS5 index.
public struct LexicalSearch: Sendable {
    /// BM25 column weights: title, heading path, body.
    public static let columnWeights = (title: 2.0, headings: 1.0, body: 1.0)
    public static let maxTopK = 1000

    private let store: KnowledgeStore

    public init(store: KnowledgeStore) { self.store = store }

    /// The `topK` best chunks for `query`. Any text is a valid query; one with no searchable
    /// characters returns no results.
    public func search(_ query: String, topK: Int) throws -> [SearchHit] {
        let terms = QueryTerms.parse(query)
        guard let match = QueryTerms.matchExpression(terms), topK > 0 else { return [] }
        let weights = Self.columnWeights
        return try store.pool.read { db in
            let ranked = try Row.fetchAll(db, sql: """
                SELECT rowid, bm25(chunks_fts, \(weights.title), \(weights.headings), \(weights.body)) AS score
                FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY score LIMIT ?
                """, arguments: [match, min(topK, Self.maxTopK)])
            let detail = try db.cachedStatement(sql: """
                SELECT c.document_id, c.ordinal, c.text, c.start_offset, c.end_offset, c.heading_path,
                       d.uri, d.url, d.title
                FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.id = ?
                """)
            return try ranked.compactMap { row -> SearchHit? in
                let chunkID: Int64 = row[0]
                let score: Double = row[1]
                guard let chunk = try Row.fetchOne(detail, arguments: [chunkID]) else { return nil }
                let text: String = chunk[2]
                let url: String? = chunk[7]
                return SearchHit(
                    uri: url ?? chunk[6], title: chunk[8], score: -score, text: text,
                    snippet: Snippet.make(text: text, terms: terms), documentID: chunk[0], chunkID: chunkID,
                    ordinal: chunk[1], startOffset: chunk[3], endOffset: chunk[4],
                    headingPath: HeadingPath.decode(chunk[5]))
            }
        }
    }
}
