import Foundation
import KBSearch

/// A source given to the model, and, when the answer cites it, the citation: marker `[n]` maps to
/// this chunk and to the exact span `start_offset..<end_offset` (Unicode scalars) of its document,
/// whose text is `text`.
public struct Citation: Codable, Sendable, Equatable {
    public var marker: Int
    /// The source's place in the retrieval ranking, 1 = most relevant (the prompt orders sources by
    /// document instead, so `marker` and `rank` differ).
    public var rank: Int
    public var documentID: Int64
    public var chunkID: Int64
    /// The document's identity (source path or record id), and its `url` when it has one.
    public var uri: String
    public var url: String?
    public var title: String
    public var headingPath: [String]
    public var startOffset: Int
    public var endOffset: Int
    public var text: String
    public var score: Double

    enum CodingKeys: String, CodingKey {
        case marker, rank, documentID = "document_id", chunkID = "chunk_id", uri, url, title, headingPath = "heading_path"
        case startOffset = "start_offset", endOffset = "end_offset", text, score
    }

    init(marker: Int, rank: Int? = nil, hit: SearchHit) {
        self.marker = marker
        self.rank = rank ?? marker
        documentID = hit.documentID
        chunkID = hit.chunkID
        uri = hit.uri
        url = hit.url
        title = hit.title
        headingPath = hit.headingPath
        startOffset = hit.startOffset
        endOffset = hit.endOffset
        text = hit.text
        score = hit.score
    }
}
