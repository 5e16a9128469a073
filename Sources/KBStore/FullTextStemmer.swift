import GRDB

/// Stems words exactly as `chunks_fts` indexes them, by SQLite itself: an in-memory FTS5 table with
/// the index's tokenizer (``Schema/fullTextTokenizer``), read through `fts5vocab`, so there is no
/// second stemmer to keep in step with SQLite's.
public enum FullTextStemmer {
    /// One in-memory database per process, serialized by GRDB.
    private static let stemmer: DatabaseQueue? = {
        guard let queue = try? DatabaseQueue() else { return nil }
        do {
            try queue.write { db in
                try db.execute(sql: "CREATE VIRTUAL TABLE words USING fts5(w, tokenize='\(Schema.fullTextTokenizer)')")
                try db.execute(sql: "CREATE VIRTUAL TABLE stems USING fts5vocab(words, 'instance')")
            }
            return queue
        } catch {
            return nil
        }
    }()

    /// The index term (stem) of each word; nil where unknown.
    public static func stems(_ words: [String]) -> [String?] {
        guard let stemmer, !words.isEmpty else { return words.map { _ in nil } }
        return (try? stemmer.write { db -> [String?] in
            try db.execute(sql: "DELETE FROM words")
            for (i, word) in words.enumerated() {
                try db.execute(sql: "INSERT INTO words(rowid, w) VALUES (?, ?)", arguments: [i + 1, word])
            }
            var result = [String?](repeating: nil, count: words.count)
            for row in try Row.fetchAll(db, sql: "SELECT term, doc FROM stems WHERE offset = 0") {
                let index = (row[1] as Int) - 1
                if result.indices.contains(index) { result[index] = row[0] }
            }
            return result
        }) ?? words.map { _ in nil }
    }
}
