import Foundation
import GRDB

/// A document ready to be stored, with its chunks.
public struct DocumentInput: Sendable {
    /// Who owns `uri`: a document replaces only the one with the same uri in the same namespace.
    public var namespace: DocumentNamespace
    public var uri: String
    public var sourcePath: String
    public var url: String?
    public var title: String
    public var format: String
    /// sha256 of `text`.
    public var contentHash: String
    /// sha256 of every stored field and the chunker settings: equal means nothing to do.
    public var recordHash: String
    /// A JSON object, if any.
    public var metadataJSON: String?
    public var text: String
    public var charCount: Int
    public var chunks: [ChunkInput]

    public init(namespace: DocumentNamespace = .ingest, uri: String, sourcePath: String, url: String?, title: String,
                format: String, contentHash: String, recordHash: String, metadataJSON: String?, text: String,
                charCount: Int, chunks: [ChunkInput]) {
        self.namespace = namespace
        self.uri = uri
        self.sourcePath = sourcePath
        self.url = url
        self.title = title
        self.format = format
        self.contentHash = contentHash
        self.recordHash = recordHash
        self.metadataJSON = metadataJSON
        self.text = text
        self.charCount = charCount
        self.chunks = chunks
    }
}

/// One chunk of a ``DocumentInput``.
public struct ChunkInput: Sendable, Equatable {
    public var text: String
    /// Unicode scalar offsets into the document text, `start..<end`.
    public var startOffset: Int
    public var endOffset: Int
    public var tokenCount: Int
    public var headingPath: [String]
    /// The chunk's vector from the active embedding model, if it was embedded before storing.
    public var embedding: [Float]?

    public init(text: String, startOffset: Int, endOffset: Int, tokenCount: Int, headingPath: [String],
                embedding: [Float]? = nil) {
        self.text = text
        self.startOffset = startOffset
        self.endOffset = endOffset
        self.tokenCount = tokenCount
        self.headingPath = headingPath
        self.embedding = embedding
    }
}

/// What storing a document did.
public enum StoreOutcome: Sendable, Equatable {
    case added(documentID: Int64)
    case updated(documentID: Int64)
    case unchanged(documentID: Int64)
}

/// Reads and writes documents and their chunks for ``StoreReader``/``StoreWriter``. Every function runs inside the caller's transaction,
/// so a batch of documents commits (or vanishes on `kill -9`) as a whole.
enum DocumentStore {
    /// The stored id and record hash of the document with `uri` in `namespace`, if any.
    static func state(_ db: Database, namespace: DocumentNamespace, uri: String) throws
        -> (id: Int64, recordHash: String)? {
        let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT id, record_hash FROM documents WHERE namespace = ? AND uri = ?"),
            arguments: [namespace.rawValue, uri])
        return row.map { ($0[0], $0[1]) }
    }

    /// The URI of another document of `namespace` whose text hashes to `contentHash`, if any.
    static func duplicate(_ db: Database, contentHash: String, namespace: DocumentNamespace,
                                 otherThan uri: String) throws -> String? {
        try String.fetchOne(
            db.cachedStatement(sql: "SELECT uri FROM documents WHERE content_hash = ? AND namespace = ? AND uri <> ? LIMIT 1"),
            arguments: [contentHash, namespace.rawValue, uri])
    }

    /// Who owns the document with row id `documentID` and under which uri; nil when there is none.
    static func owner(_ db: Database, documentID: Int64) throws
        -> (namespace: DocumentNamespace?, uri: String, sourcePath: String)? {
        try Row.fetchOne(db, sql: "SELECT namespace, uri, source_path FROM documents WHERE id = ?",
                         arguments: [documentID]).map { (DocumentNamespace(rawValue: $0[0]), $0[1], $0[2]) }
    }

    /// The ids of a document's chunks, in order.
    static func chunkIDs(_ db: Database, documentID: Int64) throws -> [Int64] {
        try Int64.fetchAll(db.cachedStatement(sql: "SELECT id FROM chunks WHERE document_id = ? ORDER BY ordinal"),
                           arguments: [documentID])
    }

    /// Inserts `document`, or replaces the stored one with the same namespace and URI (its chunks,
    /// index rows and embeddings all go), or does nothing when the record hash is unchanged. Chunk
    /// vectors, when present, are stored under `embeddingModelID`.
    @discardableResult
    static func put(_ db: Database, _ document: DocumentInput, embeddingModelID: Int64? = nil) throws -> StoreOutcome {
        let documentID: Int64
        let outcome: StoreOutcome
        if let existing = try state(db, namespace: document.namespace, uri: document.uri) {
            if existing.recordHash == document.recordHash { return .unchanged(documentID: existing.id) }
            try deleteChunks(db, documentID: existing.id)
            try db.cachedStatement(sql: """
                UPDATE documents SET source_path = ?, url = ?, title = ?, format = ?, content_hash = ?,
                    record_hash = ?, metadata = ?, text = ?, char_count = ?, updated_at = \(now)
                WHERE id = ?
                """).execute(arguments: [
                    document.sourcePath, document.url, document.title, document.format, document.contentHash,
                    document.recordHash, document.metadataJSON, document.text, document.charCount, existing.id,
                ])
            documentID = existing.id
            outcome = .updated(documentID: documentID)
        } else {
            try db.cachedStatement(sql: """
                INSERT INTO documents(namespace, uri, source_path, url, title, format, content_hash, record_hash,
                    metadata, text, char_count, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, \(now), \(now))
                """).execute(arguments: [
                    document.namespace.rawValue, document.uri, document.sourcePath, document.url, document.title, document.format,
                    document.contentHash, document.recordHash, document.metadataJSON, document.text,
                    document.charCount,
                ])
            documentID = db.lastInsertedRowID
            outcome = .added(documentID: documentID)
        }
        let insertChunk = try db.cachedStatement(sql: """
            INSERT INTO chunks(document_id, ordinal, text, start_offset, end_offset, token_count, heading_path)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
        for (ordinal, chunk) in document.chunks.enumerated() {
            try insertChunk.execute(arguments: [
                documentID, ordinal, chunk.text, chunk.startOffset, chunk.endOffset, chunk.tokenCount,
                HeadingPath.encode(chunk.headingPath),
            ])
            let chunkID = db.lastInsertedRowID
            try FullTextIndex.insert(db, chunkID: chunkID, title: document.title, headings: chunk.headingPath,
                                     body: chunk.text)
            if let modelID = embeddingModelID, let vector = chunk.embedding {
                try EmbeddingStore.put(db, chunkID: chunkID, modelID: modelID, vector: vector)
            }
        }
        return outcome
    }

    /// Deletes a document with its chunks, index rows and embeddings.
    static func delete(_ db: Database, documentID: Int64) throws {
        try deleteChunks(db, documentID: documentID)
        try db.execute(sql: "DELETE FROM documents WHERE id = ?", arguments: [documentID])
    }

    /// Documents of the ``DocumentNamespace/ingest`` namespace read from any of `sourcePaths` (exact
    /// file paths) or from files under the directories `directoryPrefixes` (each ending in "/"):
    /// candidates for `--prune`.
    static func documents(_ db: Database, fromSourcePaths sourcePaths: [String],
                                 orUnder directoryPrefixes: [String]) throws -> [(id: Int64, uri: String, sourcePath: String)] {
        var result: [(Int64, String, String)] = []
        let exact = try db.cachedStatement(
            sql: "SELECT id, uri, source_path FROM documents WHERE source_path = ? AND namespace = 'ingest'")
        for path in sourcePaths {
            for row in try Row.fetchAll(exact, arguments: [path]) { result.append((row[0], row[1], row[2])) }
        }
        // Prefix match on an indexed column: source_path >= prefix AND source_path < prefix + U+10FFFF.
        let ranged = try db.cachedStatement(
            sql: "SELECT id, uri, source_path FROM documents WHERE source_path >= ? AND source_path < ? AND namespace = 'ingest'")
        for prefix in directoryPrefixes {
            for row in try Row.fetchAll(ranged, arguments: [prefix, prefix + "\u{10FFFF}"]) {
                result.append((row[0], row[1], row[2]))
            }
        }
        return result
    }

    private static func deleteChunks(_ db: Database, documentID: Int64) throws {
        try FullTextIndex.deleteChunks(db, documentID: documentID)
        try db.cachedStatement(sql: "DELETE FROM embeddings WHERE chunk_id IN (SELECT id FROM chunks WHERE document_id = ?)")
            .execute(arguments: [documentID])
        try db.cachedStatement(sql: "DELETE FROM chunks WHERE document_id = ?").execute(arguments: [documentID])
    }

    /// SQL for the current time as ISO 8601 UTC with milliseconds (SQLite's clock: no formatter per row).
    private static let now = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
}
