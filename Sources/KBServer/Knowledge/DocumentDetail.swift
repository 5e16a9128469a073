import Foundation
import GRDB
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

    static func fetch(_ db: Database, id: Int64) throws -> DocumentDetail? {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT id, uri, url, title, format, metadata, text, char_count, created_at, updated_at
            FROM documents WHERE id = ?
            """, arguments: [id]) else { return nil }
        let chunks = try Row.fetchAll(db, sql: """
            SELECT id, ordinal, start_offset, end_offset, token_count, heading_path FROM chunks
            WHERE document_id = ? ORDER BY ordinal
            """, arguments: [id]).map {
            Chunk(chunkID: $0[0], ordinal: $0[1], startOffset: $0[2], endOffset: $0[3], tokenCount: $0[4],
                  headingPath: HeadingPath.decode($0[5]))
        }
        let metadata: String? = row[5]
        return DocumentDetail(documentID: row[0], id: row[1], url: row[2], title: row[3], format: row[4],
                              metadata: metadata.flatMap(JSONValue.parse), text: row[6], charCount: row[7],
                              createdAt: row[8], updatedAt: row[9], chunks: chunks)
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
