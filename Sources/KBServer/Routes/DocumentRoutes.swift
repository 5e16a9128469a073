import Foundation
import Hummingbird

extension APIServer {
    /// `POST /v1/documents`, `DELETE /v1/documents/{id}` (writes: the router group that requires a key).
    func addDocumentWriteRoutes(_ router: some RouterMethods<KBRequestContext>) {
        router.post("/v1/documents") { [self] request, _ in
            let limit = configuration.maxUploadBytes
            if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
                throw APIError(.contentTooLarge, "body_too_large",
                               "\(declared) bytes is over the \(limit)-byte limit of this endpoint (server option --max-upload)")
            }
            let contentType = request.headers[.contentType]
            let records = try await deadlines.withBodyDeadline {
                try await DocumentUpload.parse(request.body, contentType: contentType, limit: limit)
            }
            return try await deadlines.timed { [self] in
                let outcomes = try await knowledge.ingest(records)
                let created = outcomes.contains { $0.status == .added }
                return JSONBody.response(DocumentUploadResponse(outcomes), status: created ? .created : .ok)
            }
        }
        router.delete("/v1/documents/:id") { [self] _, context in
            let id = try Self.documentID(context)
            guard let chunks = try await knowledge.deleteDocument(id: id) else {
                throw APIError.notFound("no document with id \(id)")
            }
            return JSONBody.response(DocumentDeletion(documentID: id, deleted: true, chunks: chunks))
        }
    }

    /// `GET /v1/documents/{id}` (a read).
    func addDocumentReadRoutes(_ router: some RouterMethods<KBRequestContext>) {
        router.get("/v1/documents/:id") { [self] _, context in
            let id = try Self.documentID(context)
            guard let document = try await knowledge.document(id: id) else {
                throw APIError.notFound("no document with id \(id)")
            }
            return JSONBody.response(document)
        }
    }

    /// The `{id}` of a documents URL: the `document_id` that search results and uploads report.
    static func documentID(_ context: KBRequestContext) throws -> Int64 {
        let text = context.parameters.get("id") ?? ""
        guard let id = Int64(text), id > 0 else {
            throw APIError.badRequest("invalid_id", "document id must be a positive integer (the document_id of a search "
                                      + "result or upload), got \"\(text)\"")
        }
        return id
    }
}
