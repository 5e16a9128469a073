import GRDB

/// Maintains the contentless `chunks_fts` table. Its rowid is `chunks.id`; its three columns are the
/// document title, the chunk's heading path and the chunk text, each passed through
/// ``FullTextSegmenter``. Deleting a row requires the same values that were indexed, which are
/// re-derived from `documents` and `chunks`, so index rows must be deleted *before* those rows are
/// deleted or changed. `DocumentStore` is the only caller and keeps that order; other modules reach
/// it only through ``StoreWriter``'s whole operations (`put`, `deleteDocument`).
enum FullTextIndex {
    static func insert(_ db: Database, chunkID: Int64, title: String, headings: [String], body: String) throws {
        let statement = try db.cachedStatement(
            sql: "INSERT INTO chunks_fts(rowid, title, headings, body) VALUES (?, ?, ?, ?)")
        try statement.execute(arguments: [
            chunkID, FullTextSegmenter.segment(title),
            FullTextSegmenter.segment(headingsText(headings)), FullTextSegmenter.segment(body),
        ])
    }

    /// Removes every indexed chunk of one document.
    static func deleteChunks(_ db: Database, documentID: Int64) throws {
        let rows = try Row.fetchAll(
            db.cachedStatement(sql: """
                SELECT c.id, d.title, c.heading_path, c.text FROM chunks c JOIN documents d ON d.id = c.document_id
                WHERE c.document_id = ?
                """),
            arguments: [documentID])
        let delete = try db.cachedStatement(
            sql: "INSERT INTO chunks_fts(chunks_fts, rowid, title, headings, body) VALUES ('delete', ?, ?, ?, ?)")
        for row in rows {
            let headings = HeadingPath.decode(row[2])
            try delete.execute(arguments: [
                row[0] as Int64, FullTextSegmenter.segment(row[1] as String),
                FullTextSegmenter.segment(headingsText(headings)), FullTextSegmenter.segment(row[3] as String),
            ])
        }
    }

    /// Empties the index and indexes every stored chunk again.
    static func rebuild(_ db: Database) throws {
        try db.execute(sql: "INSERT INTO chunks_fts(chunks_fts) VALUES ('delete-all')")
        let rows = try Row.fetchCursor(db, sql: """
            SELECT c.id, d.title, c.heading_path, c.text FROM chunks c JOIN documents d ON d.id = c.document_id
            """)
        while let row = try rows.next() {
            try insert(db, chunkID: row[0], title: row[1], headings: HeadingPath.decode(row[2]), body: row[3])
        }
    }

    static func headingsText(_ headings: [String]) -> String { headings.joined(separator: " / ") }
}
