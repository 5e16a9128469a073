import Foundation
import KBStore

/// Tells rare query words from common ones by their document frequency in the index.
///
/// FTS5 must score every row that matches any OR-ed term, so one common word ("files", "library")
/// costs tens of milliseconds on 100k chunks. Lexical search therefore requires at least one rare
/// word and lets the others contribute to the score (`(rare…) AND (all…)`). The index stores Porter
/// stems, so each word is first stemmed by SQLite itself (``FullTextStemmer``).
enum TermStatistics {
    /// A word is common when it occurs in more than this fraction of chunks.
    static let commonFraction = 0.02
    /// …and in more than this many chunks (small bases never prune).
    static let commonMinimum = 500

    /// The index term (stem) of each word, as `chunks_fts` indexed it; nil where unknown.
    static func stems(_ words: [String]) -> [String?] { FullTextStemmer.stems(words) }

    /// Words of `terms` that are common in the index; empty when nothing should be pruned.
    /// - Parameter cache: stems and frequencies remembered between queries (stale by at most
    ///   ``TermFrequencyCache/refreshFraction`` of the chunk count).
    static func commonWords(_ store: StoreReader, terms: [QueryTerm], cache: TermFrequencyCache = .shared) throws -> Set<String> {
        let words = terms.compactMap { term -> String? in
            if case .word(let word) = term { return word }
            return nil
        }
        // A base written before migration v2 and opened read-only has no vocabulary table yet.
        guard terms.count >= 2, !words.isEmpty, try store.hasIndexVocabulary() else { return [] }
        let chunks = try store.largestChunkID()
        let threshold = max(Double(commonMinimum), commonFraction * Double(chunks))
        guard Double(chunks) > threshold else { return [] }
        let database = try store.databaseFile()
        let cache = database.isEmpty ? TermFrequencyCache() : cache  // in-memory bases have no identity to key on
        var common = Set<String>()
        for (word, stem) in zip(words, cache.stems(words, stem: stems)) {
            guard let stem, let frequency = try cache.documentFrequency(of: stem, in: database, chunkCount: chunks, read: {
                try store.chunkFrequency(ofIndexTerm: stem)
            }) else { continue }
            if Double(frequency) > threshold { common.insert(word) }
        }
        return common
    }
}
