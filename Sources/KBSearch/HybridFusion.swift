import Foundation

/// How hybrid search combines the lexical and the vector result lists.
public enum FusionMethod: String, Sendable, CaseIterable, Codable {
    /// Score fusion (the default): each chunk scores the weighted mean of its lexical coverage
    /// and its min-max-normalized cosine similarity; see ``HybridFusion/scores(lexical:coverage:vector:lexicalWeight:vectorWeight:)``.
    case score
    /// Reciprocal rank fusion: Σ weight / (k + rank), blind to how strong each list's evidence is;
    /// see ``HybridFusion/reciprocalRank(lexical:vector:lexicalWeight:vectorWeight:k:)``.
    case rrf
}

/// The fusion functions of hybrid search, over ranked lists (best first).
enum HybridFusion {
    /// Score fusion:
    ///
    ///     score(d) = (w_lex · coverage(d) + w_vec · v(d)) / (w_lex + w_vec)
    ///     v(d)     = max(0, (cos(d) − cos_N) / (cos_1 − cos_N))   (1 when cos_1 = cos_N)
    ///
    /// with cos_1 the best cosine and cos_N that of the `normalizationDepth`-th vector result (the
    /// last one when there are fewer), so scores do not depend on how many results were asked for.
    /// A chunk missing from a list gets 0 from it. `coverage` is ``LexicalCoverage`` (0…1, fixed scale,
    /// comparable between queries: a chunk with every query term scores 1, one with a single common
    /// character of a long Chinese query little). Cosines are min-max normalized because their range
    /// depends on the model (multilingual-e5 puts unrelated text near 0.75, MiniLM near 0.1).
    /// Equal weights are the default; they were not tuned on any evaluation set.
    /// Ties go to the better lexical rank, then the better vector rank, then the lower chunk id.
    ///
    /// - Parameters:
    ///   - lexical: lexical hits, best first, with ``RankedChunk/lexicalRank`` set.
    ///   - coverage: coverage of the lexical hits (missing = 0).
    ///   - vector: vector hits, best first, ``RankedChunk/score`` = cosine similarity.
    ///   - normalizationDepth: N, the vector rank whose cosine normalizes to 0.
    static func scores(lexical: [RankedChunk], coverage: [Int64: Double], vector: [RankedChunk],
                       lexicalWeight: Double, vectorWeight: Double, normalizationDepth: Int = 50) -> [RankedChunk] {
        let totalWeight = lexicalWeight + vectorWeight
        guard totalWeight > 0 else { return merged(lexical, vector) { _, _ in 0 } }
        let high = vector.first?.score ?? 0
        let low = vector.isEmpty ? 0 : vector[min(max(1, normalizationDepth), vector.count) - 1].score
        var normalized: [Int64: Double] = [:]
        for item in vector {
            normalized[item.chunkID] = high > low ? max(0, (item.score - low) / (high - low)) : 1
        }
        return merged(lexical, vector) { id, _ in
            (lexicalWeight * (coverage[id] ?? 0) + vectorWeight * (normalized[id] ?? 0)) / totalWeight
        }
    }

    /// Reciprocal rank fusion: score(d) = w_lex / (k + lexical rank) + w_vec / (k + vector rank),
    /// a term only for the lists that hold d. k = 60 is the value of the original paper. Equal
    /// scores go to the lower chunk id.
    static func reciprocalRank(lexical: [RankedChunk], vector: [RankedChunk], lexicalWeight: Double,
                               vectorWeight: Double, k: Double) -> [RankedChunk] {
        merged(lexical, vector, ranksBreakTies: false) { _, chunk in
            (chunk.lexicalRank.map { lexicalWeight / (k + Double($0)) } ?? 0)
                + (chunk.vectorRank.map { vectorWeight / (k + Double($0)) } ?? 0)
        }
    }

    /// The union of both lists, each chunk with both ranks, scored by `score(id, chunk)` and sorted;
    /// equal scores by lexical rank, then vector rank (`ranksBreakTies`), then chunk id.
    private static func merged(_ lexical: [RankedChunk], _ vector: [RankedChunk], ranksBreakTies: Bool = true,
                               score: (Int64, RankedChunk) -> Double) -> [RankedChunk] {
        var byID: [Int64: RankedChunk] = [:]
        for item in lexical {
            byID[item.chunkID] = RankedChunk(chunkID: item.chunkID, score: 0, lexicalRank: item.lexicalRank, vectorRank: nil)
        }
        for item in vector {
            byID[item.chunkID, default: RankedChunk(chunkID: item.chunkID, score: 0, lexicalRank: nil, vectorRank: nil)]
                .vectorRank = item.vectorRank
        }
        let scored = byID.values.map { chunk -> RankedChunk in
            var chunk = chunk
            chunk.score = score(chunk.chunkID, chunk)
            return chunk
        }
        return scored.sorted { a, b in
            if a.score != b.score { return a.score > b.score }
            guard ranksBreakTies else { return a.chunkID < b.chunkID }
            let lexicalA = a.lexicalRank ?? .max, lexicalB = b.lexicalRank ?? .max
            if lexicalA != lexicalB { return lexicalA < lexicalB }
            let vectorA = a.vectorRank ?? .max, vectorB = b.vectorRank ?? .max
            if vectorA != vectorB { return vectorA < vectorB }
            return a.chunkID < b.chunkID
        }
    }
}
