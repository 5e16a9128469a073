import Foundation
import KBStore

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

/// Any JSON value, decoded and re-encoded faithfully (booleans stay booleans, integers integers).
enum JSONValue: Codable, Sendable, Equatable {
    case null, bool(Bool), int(Int64), double(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int64.self) { self = .int(value) }
        else if let value = try? container.decode(Double.self) { self = .double(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// Parses JSON text; nil when it is not valid JSON.
    static func parse(_ text: String) -> JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) }
}
