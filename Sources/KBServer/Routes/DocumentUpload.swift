import Foundation
import HTTPTypes
import KBIngest
import NIOCore

/// Parses the body of `POST /v1/documents` as it arrives: one JSON object, or JSON Lines (one
/// object per line), each per `schemas/document.schema.json`. Every record is checked before
/// anything is stored; the first bad one is reported with its line number and nothing is written.
///
/// Memory: a JSON Lines body is never held whole. Its bytes are cut into lines as they arrive; a
/// blank line costs nothing, and only the current line is buffered (``Lines``), so what the upload
/// keeps is its records, whatever the shape of the bytes (31 MiB of blank lines took 1.1 GB when the
/// body was split into one slice per line).
enum DocumentUpload {
    static let maxRecords = 10_000

    /// Reads and parses `body`.
    /// - Parameters:
    ///   - limit: the most bytes accepted (413 past it).
    /// - Throws: ``APIError``: 400 for a malformed or duplicate record or an empty body, 413 past
    ///   `limit` or ``maxRecords``.
    static func parse<Body: AsyncSequence>(_ body: Body, contentType: String?, limit: Int) async throws
        -> [JSONLinesReader.Record] where Body.Element == ByteBuffer {
        let isJSONLines = contentType.map { type in
            ["ndjson", "jsonl", "json-lines", "jsonlines"].contains { type.lowercased().contains($0) }
        } ?? false
        var records: [JSONLinesReader.Record]
        if isJSONLines {
            var lines = Lines()
            var received = 0
            for try await chunk in body {
                received += chunk.readableBytes
                guard received <= limit else { throw tooLarge(limit) }
                try chunk.withUnsafeReadableBytes { try lines.append($0) }
            }
            records = try lines.finish()
            guard !records.isEmpty else {
                throw APIError.badRequest("empty_body", "the JSON Lines body has no documents")
            }
        } else {
            var collected = ByteBuffer()
            for try await var chunk in body {
                guard collected.readableBytes + chunk.readableBytes <= limit else { throw tooLarge(limit) }
                collected.writeBuffer(&chunk)
            }
            let first = collected.readableBytesView.first { !isBlank($0) }
            guard let first else {
                throw APIError.badRequest("empty_body", "the request body is empty; send a document object or JSON Lines")
            }
            guard first == UInt8(ascii: "{") else {
                throw APIError.badRequest("invalid_document",
                                          "the body must be a JSON object (a document), or JSON Lines sent as application/x-ndjson")
            }
            records = [try collected.withUnsafeReadableBytes { try parseRecord($0, label: "the document") }]
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

    /// Cuts arriving bytes into lines and parses each non-blank one at once; only the line being
    /// read is buffered.
    struct Lines {
        private(set) var records: [JSONLinesReader.Record] = []
        /// The bytes of the current line that are not yet complete.
        private(set) var pending: [UInt8] = []
        /// Whether the current line has had anything but blanks so far.
        private var pendingHasContent = false
        /// The number of the current line (1-based).
        private(set) var lineNumber = 1

        /// Takes the next bytes of the body.
        mutating func append(_ bytes: UnsafeRawBufferPointer) throws {
            var start = 0
            while start < bytes.count {
                let rest = UnsafeRawBufferPointer(rebasing: bytes[start...])
                let newline = rest.firstIndex(of: 0x0A).map { start + $0 }
                let end = newline ?? bytes.count
                let segment = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
                if pendingHasContent || segment.contains(where: { !DocumentUpload.isBlank($0) }) {
                    pending.append(contentsOf: segment)
                    pendingHasContent = true
                }
                guard newline != nil else { return }
                try endLine()
                start = end + 1
            }
        }

        /// Ends the body: parses a last line without a newline.
        mutating func finish() throws -> [JSONLinesReader.Record] {
            try endLine()
            return records
        }

        private mutating func endLine() throws {
            defer {
                lineNumber += 1
                pendingHasContent = false
                if pending.capacity > 1 << 16 { pending = [] } else { pending.removeAll(keepingCapacity: true) }
            }
            guard pendingHasContent else { return }
            let record = try pending.withUnsafeBytes { try DocumentUpload.parseRecord($0, label: "line \(lineNumber)") }
            records.append(record)
            guard records.count <= DocumentUpload.maxRecords else {
                throw APIError(.contentTooLarge, "too_many_documents", "more than \(DocumentUpload.maxRecords) documents in one request")
            }
        }
    }

    static func isBlank(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    private static func tooLarge(_ limit: Int) -> APIError {
        APIError(.contentTooLarge, "body_too_large",
                 "the request body is over the \(limit)-byte limit of this endpoint (server option --max-upload)")
    }

    fileprivate static func parseRecord(_ bytes: UnsafeRawBufferPointer, label: String) throws -> JSONLinesReader.Record {
        do {
            return try JSONLinesReader.parse(line: bytes)
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
