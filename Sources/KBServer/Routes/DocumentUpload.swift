import Foundation
import HTTPTypes
import KBIngest
import NIOCore

/// Parses the body of `POST /v1/documents`: one JSON object, or JSON Lines (one object per line),
/// each per `schemas/document.schema.json`. Every record is checked before anything is stored;
/// the first bad one is reported with its line number and nothing is written.
enum DocumentUpload {
    static let maxRecords = 10_000

    static func parse(_ body: ByteBuffer, contentType: String?) throws -> [JSONLinesReader.Record] {
        let bytes = Array(body.readableBytesView)
        let isJSONLines = contentType.map { type in
            ["ndjson", "jsonl", "json-lines", "jsonlines"].contains { type.lowercased().contains($0) }
        } ?? false
        let first = bytes.first { ![0x20, 0x0A, 0x0D, 0x09].contains($0) }
        guard first != nil else {
            throw APIError.badRequest("empty_body", "the request body is empty; send a document object or JSON Lines")
        }
        var records: [JSONLinesReader.Record] = []
        if !isJSONLines {
            guard first == UInt8(ascii: "{") else {
                throw APIError.badRequest("invalid_document",
                                          "the body must be a JSON object (a document), or JSON Lines sent as application/x-ndjson")
            }
            records.append(try parseRecord(bytes[...], label: "the document"))
        } else {
            var lineNumber = 0
            for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
                lineNumber += 1
                if line.allSatisfy({ [0x20, 0x0D, 0x09].contains($0) }) { continue }
                records.append(try parseRecord(line, label: "line \(lineNumber)"))
                guard records.count <= maxRecords else {
                    throw APIError(.contentTooLarge, "too_many_documents", "more than \(maxRecords) documents in one request")
                }
            }
            guard !records.isEmpty else {
                throw APIError.badRequest("empty_body", "the JSON Lines body has no documents")
            }
        }
        var seen: [String: Int] = [:]
        for (index, record) in records.enumerated() {
            if let earlier = seen[record.id] {
                throw APIError.badRequest("duplicate_id", "documents \(earlier + 1) and \(index + 1) both have id \"\(record.id)\"")
            }
            seen[record.id] = index
        }
        return records
    }

    private static func parseRecord(_ bytes: ArraySlice<UInt8>, label: String) throws -> JSONLinesReader.Record {
        do {
            return try bytes.withUnsafeBytes { try JSONLinesReader.parse(line: $0) }
        } catch let error as ReadError {
            throw APIError.badRequest("invalid_document", "\(label): \(error.description)")
        }
    }
}

/// The answer of `POST /v1/documents`.
struct DocumentUploadResponse: Encodable, Sendable {
    var documents: [RecordOutcome]
    var added: Int
    var updated: Int
    var unchanged: Int
    var skipped: Int

    init(_ outcomes: [RecordOutcome]) {
        documents = outcomes
        added = outcomes.filter { $0.status == .added }.count
        updated = outcomes.filter { $0.status == .updated }.count
        unchanged = outcomes.filter { $0.status == .unchanged }.count
        skipped = outcomes.filter { $0.status == .skipped }.count
    }
}

/// The answer of `DELETE /v1/documents/{id}`.
struct DocumentDeletion: Encodable, Sendable {
    var documentID: Int64
    var deleted: Bool
    var chunks: Int

    enum CodingKeys: String, CodingKey {
        case documentID = "document_id", deleted, chunks
    }
}
