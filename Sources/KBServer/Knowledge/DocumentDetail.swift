import Foundation
import KBStore
import KBSupport

/// A stored document as `GET /v1/documents/{id}` returns it.
struct DocumentDetail: Encodable, Sendable {
    struct Chunk: Encodable, Sendable {
        var chunkID: Int64
        var ordinal: Int
        var startOffset: Int
        var endOffset: Int
        var tokenCount: Int
        var headingPath: [String]

        enum CodingKeys: String, CodingKey {
            case chunkID = "chunk_id", ordinal, startOffset = "start_offset", endOffset = "end_offset"
            case tokenCount = "token_count", headingPath = "heading_path"
        }
    }

    var documentID: Int64
    /// The document's identity: a file's path, or a JSON Lines / API record's `id`.
    var id: String
    var url: String?
    var title: String
    var format: String
    /// The stored metadata object.
    var metadata: JSONValue?
    var text: String
    var charCount: Int
    var createdAt: String
    var updatedAt: String
    var chunks: [Chunk]

    enum CodingKeys: String, CodingKey {
        case documentID = "document_id", id, url, title, format, metadata, text, charCount = "char_count"
        case createdAt = "created_at", updatedAt = "updated_at", chunks
    }

    /// The document with row id `id` and its chunks, read in one transaction; nil when there is none.
    static func fetch(_ store: StoreReader, id: Int64) throws -> DocumentDetail? {
        guard let document = try store.document(id: id) else { return nil }
        let chunks = try store.chunks(documentID: id).map {
            Chunk(chunkID: $0.id, ordinal: $0.ordinal, startOffset: $0.startOffset, endOffset: $0.endOffset,
                  tokenCount: $0.tokenCount, headingPath: $0.headingPath)
        }
        return DocumentDetail(documentID: document.id, id: document.uri, url: document.url, title: document.title,
                              format: document.format, metadata: document.metadataJSON.flatMap(JSONValue.parse),
                              text: document.text, charCount: document.charCount, createdAt: document.createdAt,
                              updatedAt: document.updatedAt, chunks: chunks)
    }
}
