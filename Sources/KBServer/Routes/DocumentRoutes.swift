import Foundation
import Hummingbird

extension KnowledgeServer {
    /// `POST /v1/documents`, `GET /v1/documents/{id}`, `DELETE /v1/documents/{id}`.
    func addDocumentRoutes(_ router: Router<KBRequestContext>) {
        router.post("/v1/documents") { [self] request, _ in
            let body = try await readBody(request, limit: configuration.maxUploadBytes)
            let contentType = request.headers[.contentType]
            return try await timed { [self] in
                let records = try DocumentUpload.parse(body, contentType: contentType)
                let outcomes = try await knowledge.ingest(records)
                let created = outcomes.contains { $0.status == .added }
                return JSONBody.response(DocumentUploadResponse(outcomes), status: created ? .created : .ok)
            }
        }
        router.get("/v1/documents/:id") { [self] _, context in
            let id = try Self.documentID(context)
            guard let document = try await knowledge.document(id: id) else {
                throw APIError.notFound("no document with id \(id)")
            }
            return JSONBody.response(document)
        }
        router.delete("/v1/documents/:id") { [self] _, context in
            let id = try Self.documentID(context)
            guard let chunks = try await knowledge.deleteDocument(id: id) else {
                throw APIError.notFound("no document with id \(id)")
            }
            return JSONBody.response(DocumentDeletion(documentID: id, deleted: true, chunks: chunks))
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
