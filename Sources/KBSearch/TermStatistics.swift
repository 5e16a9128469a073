import Foundation
import GRDB
import KBStore

/// Tells rare query words from common ones by their document frequency in the index.
///
/// FTS5 must score every row that matches any OR-ed term, so one common word ("files", "library")
/// costs tens of milliseconds on 100k chunks. Lexical search therefore requires at least one rare
/// word and lets the others contribute to the score (`(rare…) AND (all…)`). The index stores Porter
/// stems, so each word is first stemmed by SQLite itself: an in-memory FTS5 table with the same
/// tokenizer, read through `fts5vocab` (no second stemmer to keep in step with SQLite's).
enum TermStatistics {
    /// A word is common when it occurs in more than this fraction of chunks.
    static let commonFraction = 0.02
    /// …and in more than this many chunks (small bases never prune).
    static let commonMinimum = 500

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

    /// The index term (stem) of each word, as `chunks_fts` indexed it; nil where unknown.
    static func stems(_ words: [String]) -> [String?] {
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

    /// Words of `terms` that are common in the index; empty when nothing should be pruned.
    /// - Parameter cache: stems and frequencies remembered between queries (stale by at most
    ///   ``TermFrequencyCache/refreshFraction`` of the chunk count).
    static func commonWords(_ db: Database, terms: [QueryTerm], cache: TermFrequencyCache = .shared) throws -> Set<String> {
        let words = terms.compactMap { term -> String? in
            if case .word(let word) = term { return word }
            return nil
        }
        // A base written before migration v2 and opened read-only has no vocabulary table yet.
        guard terms.count >= 2, !words.isEmpty, try db.tableExists("chunks_fts_vocab") else { return [] }
        let chunks = try Int.fetchOne(db, sql: "SELECT max(id) FROM chunks") ?? 0
        let threshold = max(Double(commonMinimum), commonFraction * Double(chunks))
        guard Double(chunks) > threshold else { return [] }
        let lookup = try db.cachedStatement(sql: "SELECT doc FROM chunks_fts_vocab WHERE term = ?")
        let database = try String.fetchOne(db, sql: "SELECT file FROM pragma_database_list WHERE name = 'main'") ?? ""
        let cache = database.isEmpty ? TermFrequencyCache() : cache  // in-memory bases have no identity to key on
        var common = Set<String>()
        for (word, stem) in zip(words, cache.stems(words, stem: stems)) {
            guard let stem, let frequency = try cache.documentFrequency(of: stem, in: database, chunkCount: chunks, read: {
                try Int.fetchOne(lookup, arguments: [stem])
            }) else { continue }
            if Double(frequency) > threshold { common.insert(word) }
        }
        return common
    }
}
