import GRDB

/// A chunk with the fields of its document that a search result shows.
public struct ChunkInDocument: Sendable, Equatable, FetchableRecord {
    public var documentID: Int64
    public var ordinal: Int
    public var text: String
    public var startOffset: Int
    public var endOffset: Int
    public var headingPath: [String]
    public var uri: String
    public var url: String?
    public var title: String

    /// Reads the columns of ``StoreReader/chunkInDocument(id:)``'s statement by position (a search
    /// loads one per result).
    public init(row: Row) {
        documentID = row[0]
        ordinal = row[1]
        text = row[2]
        startOffset = row[3]
        endOffset = row[4]
        headingPath = HeadingPath.decode(row[5])
        uri = row[6]
        url = row[7]
        title = row[8]
    }
}

// MARK: - Full-text search and the rows a search reads

extension StoreReader {
    /// The best chunks for an FTS5 `match` expression by `bm25(chunks_fts, title, headings, body)`
    /// with these column weights, best (lowest BM25) first.
    /// - Parameters:
    ///   - match: a valid FTS5 expression (callers quote every term).
    ///   - filter: only chunks of documents it allows.
    public func bestChunks(match: String, columnWeights: (title: Double, headings: Double, body: Double), limit: Int,
                           filter: DocumentFilter) throws -> [(chunkID: Int64, bm25: Double)] {
        var arguments: StatementArguments = [match]
        var restriction = ""
        if !filter.isEmpty {
            let (sql, filterArguments) = filter.condition()
            restriction = " AND rowid IN (SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id WHERE \(sql))"
            arguments += filterArguments
        }
        arguments += [limit]
        let weights = columnWeights
        let rows = try Row.fetchAll(db, sql: """
            SELECT rowid, bm25(chunks_fts, \(weights.title), \(weights.headings), \(weights.body)) AS score
            FROM chunks_fts WHERE chunks_fts MATCH ?\(restriction) ORDER BY score LIMIT ?
            """, arguments: arguments)
        return rows.map { ($0[0], $0[1]) }
    }

    /// Calls `body` with the id of every chunk that matches an FTS5 expression (e.g. one quoted term).
    public func forEachChunk(matching expression: String, _ body: (Int64) throws -> Void) throws {
        let rows = try Int64.fetchCursor(db.cachedStatement(sql: "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ?"),
                                         arguments: [expression])
        while let id = try rows.next() { try body(id) }
    }

    /// Ids of the chunks `filter` allows, or nil when it is empty (everything allowed).
    public func chunkIDs(allowedBy filter: DocumentFilter) throws -> Set<Int64>? {
        guard !filter.isEmpty else { return nil }
        let (sql, arguments) = filter.condition()
        return Set(try Int64.fetchAll(db, sql: "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id WHERE \(sql)",
                                      arguments: arguments))
    }

    /// A chunk and its document's uri, url and title; nil when the chunk is gone.
    public func chunkInDocument(id chunkID: Int64) throws -> ChunkInDocument? {
        try ChunkInDocument.fetchOne(db.cachedStatement(sql: """
            SELECT c.document_id, c.ordinal, c.text, c.start_offset, c.end_offset, c.heading_path,
                   d.uri, d.url, d.title
            FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.id = ?
            """), arguments: [chunkID])
    }

    /// The text of a document between Unicode scalar offsets `start..<end`; nil when the document is gone.
    public func documentText(id documentID: Int64, from start: Int, to end: Int) throws -> String? {
        try String.fetchOne(db, sql: "SELECT substr(text, ?, ?) FROM documents WHERE id = ?",
                            arguments: [start + 1, end - start, documentID])
    }

    /// Number of chunks.
    public func chunkCount() throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM chunks") ?? 0
    }

    /// The largest chunk id (an upper bound of the chunk count that costs one index lookup), 0 when none.
    public func largestChunkID() throws -> Int {
        try Int.fetchOne(db, sql: "SELECT max(id) FROM chunks") ?? 0
    }

    /// Whether the index's vocabulary table exists (a base written before migration v2 and opened
    /// read-only has none yet).
    public func hasIndexVocabulary() throws -> Bool {
        try db.tableExists("chunks_fts_vocab")
    }

    /// Number of chunks whose index holds `term` (a stem, ``FullTextStemmer``); nil when none does.
    public func chunkFrequency(ofIndexTerm term: String) throws -> Int? {
        try Int.fetchOne(db.cachedStatement(sql: "SELECT doc FROM chunks_fts_vocab WHERE term = ?"), arguments: [term])
    }

    /// The path of the database file as SQLite opened it (empty for an in-memory database): a key
    /// for caches of what it holds.
    public func databaseFile() throws -> String {
        try String.fetchOne(db, sql: "SELECT file FROM pragma_database_list WHERE name = 'main'") ?? ""
    }
}
