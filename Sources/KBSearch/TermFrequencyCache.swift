import Foundation
import KBSupport

/// Remembers word stems and index document frequencies between queries, so that a query's common
/// words cost a dictionary lookup instead of an `fts5vocab` scan (O(document frequency), which is
/// exactly large for the common words) and a round trip through the shared stemmer.
///
/// Frequencies only decide which words are pruned from the required part of a query (ranking is
/// always BM25 over every term), so a slightly stale one is harmless: an entry is reused while the
/// base's chunk count stays within ``refreshFraction`` of the count it was read at.
final class TermFrequencyCache: Sendable {
    /// The cache every ``LexicalSearch`` in the process shares.
    static let shared = TermFrequencyCache()

    /// Re-read a frequency once the chunk count has moved by more than this fraction.
    static let refreshFraction = 0.05
    /// The bytes of text (words, stems, database paths) each map may hold; when an addition would
    /// pass it, the map is cleared (queries refill it in one pass). Counting bytes, not entries,
    /// bounds the memory whatever the words: a query can hold a "word" of thousands of bytes.
    let byteCapacity: Int
    /// Bookkeeping bytes counted per entry on top of its text (dictionary slot, string headers).
    static let entryOverhead = 64

    private struct FrequencyKey: Hashable {
        let database: String
        let stem: String
    }
    private struct Frequency {
        let documents: Int
        let chunkCountWhenRead: Int
    }
    private struct State {
        var stems: [String: String?] = [:]
        var stemBytes = 0
        var frequencies: [FrequencyKey: Frequency] = [:]
        var frequencyBytes = 0
        var hits = 0
        var misses = 0
    }

    private let state = Locked(State())

    /// - Parameter byteCapacity: the budget of each map (default 8 MiB, so at most 16 MiB in all).
    init(byteCapacity: Int = 8 << 20) { self.byteCapacity = byteCapacity }

    /// The bytes of text held now (both maps, with the per-entry overhead).
    var bytesHeld: Int { state.withLock { $0.stemBytes + $0.frequencyBytes } }
    /// Lookups answered from the cache, and those that had to read the index (for tests and stats).
    var hits: Int { state.withLock { $0.hits } }
    var misses: Int { state.withLock { $0.misses } }

    /// The stems of `words`, stemming only the words not seen before with `stem`.
    func stems(_ words: [String], stem: ([String]) -> [String?]) -> [String?] {
        let unknown = state.withLock { state in words.filter { state.stems[$0] == nil } }
        var fresh: [String: String?] = [:]
        if !unknown.isEmpty {
            let distinct = Array(Set(unknown))
            for (word, result) in zip(distinct, stem(distinct)) { fresh[word] = .some(result) }
        }
        let capacity = byteCapacity
        return state.withLock { state in
            let result = words.map { word -> String? in
                if let new = fresh[word] { return new }
                if let known = state.stems[word] { return known }  // a stem, or nil for a word with none
                return nil
            }
            let added = fresh.reduce(0) { $0 + Self.entryOverhead + $1.key.utf8.count + ($1.value?.utf8.count ?? 0) }
            if !fresh.isEmpty && state.stemBytes + added > capacity {
                state.stems.removeAll()
                state.stemBytes = 0
            }
            guard added <= capacity else { return result }   // larger than the whole budget: not kept
            for (word, stem) in fresh where state.stems.updateValue(stem, forKey: word) == nil {
                state.stemBytes += Self.entryOverhead + word.utf8.count + (stem?.utf8.count ?? 0)
            }
            return result
        }
    }

    /// The number of chunks containing `stem` in `database`, read with `read` when not cached or
    /// when the base has grown or shrunk since (`chunkCount` is its current size).
    func documentFrequency(of stem: String, in database: String, chunkCount: Int, read: () throws -> Int?) rethrows -> Int? {
        let key = FrequencyKey(database: database, stem: stem)
        let cached: Frequency? = state.withLock { state in
            guard let entry = state.frequencies[key] else { return nil }
            let drift = abs(Double(chunkCount - entry.chunkCountWhenRead))
            guard drift <= Self.refreshFraction * Double(max(entry.chunkCountWhenRead, 1)) else { return nil }
            state.hits += 1
            return entry
        }
        if let cached { return cached.documents }
        let documents = try read()
        let capacity = byteCapacity
        state.withLock { state in
            state.misses += 1
            let size = Self.entryOverhead + database.utf8.count + stem.utf8.count
            if state.frequencyBytes + size > capacity {
                state.frequencies.removeAll()
                state.frequencyBytes = 0
            }
            guard size <= capacity else { return }
            if let documents {
                let entry = Frequency(documents: documents, chunkCountWhenRead: chunkCount)
                if state.frequencies.updateValue(entry, forKey: key) == nil { state.frequencyBytes += size }
            } else if state.frequencies.removeValue(forKey: key) != nil {
                state.frequencyBytes -= size
            }
        }
        return documents
    }
}
