import Foundation
import KBStore

/// One search result: a chunk (or merged neighbouring chunks) and the document it belongs to.
public struct SearchHit: Sendable, Equatable, Codable {
    /// The document's identity: its source path, or its record `id` (JSON Lines and the API).
    public var uri: String
    /// Where a person can read the document, when its record gave a `url`.
    public var url: String?
    public var title: String
    /// Higher is better: negated BM25 (lexical), cosine similarity (vector), fused score (hybrid: 0…1 for score fusion, Σ w/(k + rank) for RRF).
    public var score: Double
    /// The chunk text: exactly the document text between the offsets.
    public var text: String
    public var snippet: Snippet
    public var documentID: Int64
    public var chunkID: Int64
    public var ordinal: Int
    /// Unicode scalar offsets of the text in the document.
    public var startOffset: Int
    public var endOffset: Int
    public var headingPath: [String]
    /// 1-based rank in the lexical and vector result lists (hybrid search), when the chunk was in them.
    public var lexicalRank: Int?
    public var vectorRank: Int?

    enum CodingKeys: String, CodingKey {
        case uri, url, title, score, text, snippet
        case documentID = "document_id", chunkID = "chunk_id", ordinal
        case startOffset = "start_offset", endOffset = "end_offset", headingPath = "heading_path"
        case lexicalRank = "lexical_rank", vectorRank = "vector_rank"
    }
}

/// A chunk id with its score and ranks, before its rows are loaded.
struct RankedChunk {
    var chunkID: Int64
    var score: Double
    var lexicalRank: Int?
    var vectorRank: Int?
}

/// Turns ranked chunk ids into ``SearchHit``s.
enum HitLoader {
    /// - Parameter terms: the query's terms for snippets; nil leaves snippets empty (evaluation).
    static func load(_ store: StoreReader, _ ranked: [RankedChunk], terms: [QueryTerm]?) throws -> [SearchHit] {
        try ranked.compactMap { item -> SearchHit? in
            // A chunk deleted since it was ranked (a concurrent ingest) is simply left out.
            guard let chunk = try store.chunkInDocument(id: item.chunkID) else { return nil }
            return SearchHit(
                uri: chunk.uri, url: chunk.url, title: chunk.title, score: item.score, text: chunk.text,
                snippet: terms.map { Snippet.make(text: chunk.text, terms: $0) } ?? Snippet(text: "", highlights: []),
                documentID: chunk.documentID, chunkID: item.chunkID, ordinal: chunk.ordinal,
                startOffset: chunk.startOffset, endOffset: chunk.endOffset, headingPath: chunk.headingPath,
                lexicalRank: item.lexicalRank, vectorRank: item.vectorRank)
        }
    }

    /// Merges hits of the same document whose spans overlap (neighbouring chunks share their overlap)
    /// into the better-ranked one, which takes the union of the spans.
    static func mergeOverlapping(_ store: StoreReader, _ hits: [SearchHit], terms: [QueryTerm]?) throws -> [SearchHit] {
        var kept: [SearchHit] = []
        for hit in hits {
            if let i = kept.firstIndex(where: { $0.documentID == hit.documentID
                                                && hit.startOffset < $0.endOffset && $0.startOffset < hit.endOffset }) {
                var merged = kept[i]
                let start = min(merged.startOffset, hit.startOffset), end = max(merged.endOffset, hit.endOffset)
                guard start != merged.startOffset || end != merged.endOffset else { continue }
                if let text = try store.documentText(id: hit.documentID, from: start, to: end) {
                    merged.text = text
                    merged.startOffset = start
                    merged.endOffset = end
                    if let terms { merged.snippet = Snippet.make(text: text, terms: terms) }
                    merged.lexicalRank = [merged.lexicalRank, hit.lexicalRank].compactMap { $0 }.min()
                    merged.vectorRank = [merged.vectorRank, hit.vectorRank].compactMap { $0 }.min()
                    kept[i] = merged
                }
                continue
            }
            kept.append(hit)
        }
        return kept
    }
}
