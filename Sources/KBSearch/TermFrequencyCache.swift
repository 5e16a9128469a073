import Foundation

/// Remembers word stems and index document frequencies between queries, so that a query's common
/// words cost a dictionary lookup instead of an `fts5vocab` scan (O(document frequency), which is
/// exactly large for the common words) and a round trip through the shared stemmer.
///
/// Frequencies only decide which words are pruned from the required part of a query (ranking is
/// always BM25 over every term), so a slightly stale one is harmless: an entry is reused while the
/// base's chunk count stays within ``refreshFraction`` of the count it was read at.
final class TermFrequencyCache: @unchecked Sendable {
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

    private let lock = NSLock()
    private var stems: [String: String?] = [:]
    private var stemBytes = 0
    private var frequencies: [FrequencyKey: Frequency] = [:]
    private var frequencyBytes = 0
    /// Lookups answered from the cache, and those that had to read the index (for tests and stats).
    private(set) var hits = 0
    private(set) var misses = 0

    /// - Parameter byteCapacity: the budget of each map (default 8 MiB, so at most 16 MiB in all).
    init(byteCapacity: Int = 8 << 20) { self.byteCapacity = byteCapacity }

    /// The bytes of text held now (both maps, with the per-entry overhead).
    var bytesHeld: Int { lock.withLock { stemBytes + frequencyBytes } }

    /// The stems of `words`, stemming only the words not seen before with `stem`.
    func stems(_ words: [String], stem: ([String]) -> [String?]) -> [String?] {
        let unknown = lock.withLock { words.filter { stems[$0] == nil } }
        var fresh: [String: String?] = [:]
        if !unknown.isEmpty {
            let distinct = Array(Set(unknown))
            for (word, result) in zip(distinct, stem(distinct)) { fresh[word] = .some(result) }
        }
        return lock.withLock {
            let result = words.map { word -> String? in
                if let new = fresh[word] { return new }
                if let known = stems[word] { return known }  // a stem, or nil for a word with none
                return nil
            }
            let added = fresh.reduce(0) { $0 + Self.entryOverhead + $1.key.utf8.count + ($1.value?.utf8.count ?? 0) }
            if !fresh.isEmpty && stemBytes + added > byteCapacity {
                stems.removeAll()
                stemBytes = 0
            }
            guard added <= byteCapacity else { return result }   // larger than the whole budget: not kept
            for (word, stem) in fresh where stems.updateValue(stem, forKey: word) == nil {
                stemBytes += Self.entryOverhead + word.utf8.count + (stem?.utf8.count ?? 0)
            }
            return result
        }
    }

    /// The number of chunks containing `stem` in `database`, read with `read` when not cached or
    /// when the base has grown or shrunk since (`chunkCount` is its current size).
    func documentFrequency(of stem: String, in database: String, chunkCount: Int, read: () throws -> Int?) rethrows -> Int? {
        let key = FrequencyKey(database: database, stem: stem)
        let cached: Frequency? = lock.withLock {
            guard let entry = frequencies[key] else { return nil }
            let drift = abs(Double(chunkCount - entry.chunkCountWhenRead))
            return drift <= Self.refreshFraction * Double(max(entry.chunkCountWhenRead, 1)) ? entry : nil
        }
        if let cached {
            lock.withLock { hits += 1 }
            return cached.documents
        }
        let documents = try read()
        lock.withLock {
            misses += 1
            let size = Self.entryOverhead + database.utf8.count + stem.utf8.count
            if frequencyBytes + size > byteCapacity {
                frequencies.removeAll()
                frequencyBytes = 0
            }
            guard size <= byteCapacity else { return }
            if let documents {
                let entry = Frequency(documents: documents, chunkCountWhenRead: chunkCount)
                if frequencies.updateValue(entry, forKey: key) == nil { frequencyBytes += size }
            } else if frequencies.removeValue(forKey: key) != nil {
                frequencyBytes -= size
            }
        }
        return documents
    }
}
