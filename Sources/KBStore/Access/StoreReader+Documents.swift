import GRDB

// MARK: - Reading documents

extension StoreReader {
    /// The stored id and record hash of the document with `uri` in `namespace`, if any.
    public func documentState(namespace: DocumentNamespace, uri: String) throws -> (id: Int64, recordHash: String)? {
        try DocumentStore.state(db, namespace: namespace, uri: uri)
    }

    /// The uri of another document of `namespace` whose text hashes to `contentHash`, if any.
    public func duplicateDocument(contentHash: String, namespace: DocumentNamespace, otherThan uri: String) throws -> String? {
        try DocumentStore.duplicate(db, contentHash: contentHash, namespace: namespace, otherThan: uri)
    }

    /// Who owns the document with row id `documentID` and under which uri; nil when there is none.
    public func documentOwner(id documentID: Int64) throws
        -> (namespace: DocumentNamespace?, uri: String, sourcePath: String)? {
        try DocumentStore.owner(db, documentID: documentID)
    }

    /// The document with row id `id`, if any.
    public func document(id: Int64) throws -> DocumentRecord? {
        try DocumentRecord.fetchOne(db, key: id)
    }

    /// A document's chunks, in order.
    public func chunks(documentID: Int64) throws -> [ChunkRecord] {
        try ChunkRecord.filter(ChunkRecord.Columns.documentID == documentID)
            .order(ChunkRecord.Columns.ordinal).fetchAll(db)
    }

    /// The ids of a document's chunks, in order.
    public func chunkIDs(documentID: Int64) throws -> [Int64] {
        try DocumentStore.chunkIDs(db, documentID: documentID)
    }

    /// Every document's uri by row id.
    public func documentURIs() throws -> [Int64: String] {
        var uris: [Int64: String] = [:]
        let rows = try Row.fetchCursor(db, DocumentRecord.select(DocumentRecord.Columns.id, DocumentRecord.Columns.uri))
        while let row = try rows.next() { uris[row[0]] = row[1] }
        return uris
    }

    /// Documents of the ``DocumentNamespace/ingest`` namespace read from any of `sourcePaths` (exact
    /// file paths) or from files under `directoryPrefixes` (each ending in "/"): candidates for `--prune`.
    public func ingestedDocuments(fromSourcePaths sourcePaths: [String], orUnder directoryPrefixes: [String]) throws
        -> [(id: Int64, uri: String, sourcePath: String)] {
        try DocumentStore.documents(db, fromSourcePaths: sourcePaths, orUnder: directoryPrefixes)
    }

    /// chunk id → a hash of (its document's id, that document's content hash), for every chunk: it
    /// changes when a chunk id is reused for another document's chunk or the document is replaced
    /// (SQLite reuses the largest row ids after a delete, so a chunk id alone does not say).
    /// - Complexity: two covering-index scans (`chunks(document_id, ordinal)`, `documents(content_hash)`).
    public func chunkSignatures() throws -> [Int64: Int] {
        var documentHash: [Int64: Int] = [:]
        let documents = try Row.fetchCursor(db, sql: "SELECT id, content_hash FROM documents")
        while let row = try documents.next() {
            var hasher = Hasher()
            hasher.combine(row[0] as Int64)
            hasher.combine(row[1] as String)
            documentHash[row[0]] = hasher.finalize()
        }
        var signatures: [Int64: Int] = [:]
        signatures.reserveCapacity(documentHash.count * 2)
        let chunks = try Row.fetchCursor(db, sql: "SELECT id, document_id FROM chunks")
        while let row = try chunks.next() {
            signatures[row[0]] = documentHash[row[1] as Int64] ?? 0
        }
        return signatures
    }
}

// MARK: - Writing documents

extension StoreWriter {
    /// Inserts `document`, or replaces the stored one with the same namespace and uri (its chunks,
    /// full-text rows and vectors all go, index rows first), or does nothing when the record hash is
    /// unchanged. Chunk vectors, when present, are stored under `embeddingModelID`.
    @discardableResult
    public func put(_ document: DocumentInput, embeddingModelID: Int64? = nil) throws -> StoreOutcome {
        try DocumentStore.put(db, document, embeddingModelID: embeddingModelID)
    }

    /// Deletes a document with its chunks, full-text rows and vectors.
    public func deleteDocument(id documentID: Int64) throws {
        try DocumentStore.delete(db, documentID: documentID)
    }
}
