import Foundation
import KBStore

/// How much of a query a lexical hit contains: the IDF-weighted fraction of the query's terms
/// found in the chunk, from 0 (none) to 1 (all).
///
/// coverage(d) = Σ_{t ∈ q, t in d} idf(t) / Σ_{t ∈ q} idf(t), idf(t) = ln(1 + (N − n_t + 0.5) / (n_t + 0.5)),
/// with N chunks, n_t of them containing term t (a word, or a run of CJK characters as a phrase,
/// exactly as lexical search matches it).
///
/// BM25 scores are not comparable between queries, and an OR query ranks a chunk that contains
/// one common term above nothing at all: a Chinese query splits into several character runs and a
/// chunk matching only `数据文件` of `古代战争实时策略游戏（数据文件）` still ranks. Coverage says how
/// strong that evidence is on a fixed scale, so hybrid fusion can weigh it against vector similarity.
enum LexicalCoverage {
    /// Coverage of each of `chunkIDs` (chunks the lexical search returned for `terms`).
    /// - Complexity: One FTS5 query per term, reading its row ids (its document frequency, and which
    ///   candidates hold it); O(rows holding the term).
    static func of(_ store: StoreReader, terms: [QueryTerm], chunkIDs: [Int64]) throws -> [Int64: Double] {
        guard !terms.isEmpty, !chunkIDs.isEmpty else { return [:] }
        let chunkCount = Double(try store.chunkCount())
        let candidates = Set(chunkIDs)
        var weightOf: [Int64: Double] = [:]
        var total = 0.0
        for term in terms {
            var frequency = 0.0
            var holders: [Int64] = []
            try store.forEachChunk(matching: QueryTerms.quoted(term)) { id in
                frequency += 1
                if candidates.contains(id) { holders.append(id) }
            }
            let idf = log(1 + (chunkCount - frequency + 0.5) / (frequency + 0.5))
            total += idf
            for id in holders { weightOf[id, default: 0] += idf }
        }
        guard total > 0 else { return [:] }
        return weightOf.mapValues { min(1, $0 / total) }
    }
}
