/// Who owns a document's `uri` (`documents.namespace`). Each writer replaces and deletes only the
/// documents of its own namespace, so an HTTP client posting a record whose id is a file's path
/// creates a second document instead of replacing the file's.
public enum DocumentNamespace: String, Sendable, Codable, CaseIterable {
    /// Files and JSON Lines records read by `kb ingest`: the uri is the file's real path or the record's `id`.
    case ingest
    /// Records posted to `POST /v1/documents`: the uri is the record's `id`.
    case api
}
