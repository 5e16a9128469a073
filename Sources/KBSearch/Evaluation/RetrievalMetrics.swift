import Foundation

/// Standard ranked-retrieval metrics over document ids, as computed by trec_eval/BEIR
/// (nDCG with linear gain and log2 discount; recall over all judged-relevant documents).
public struct RetrievalMetrics: Sendable, Codable, Equatable {
    public var ndcgAt10 = 0.0
    public var recallAt10 = 0.0
    public var recallAt100 = 0.0
    public var mrrAt10 = 0.0

    enum CodingKeys: String, CodingKey {
        case ndcgAt10 = "ndcg_at_10", recallAt10 = "recall_at_10", recallAt100 = "recall_at_100", mrrAt10 = "mrr_at_10"
    }

    public init() {}

    /// Metrics of one ranking (document ids, best first, without duplicates) against graded judgements.
    public init(ranking: [String], relevant: [String: Int]) {
        guard !relevant.isEmpty else { return }
        var dcg = 0.0
        for (i, id) in ranking.prefix(10).enumerated() {
            if let gain = relevant[id] { dcg += Double(gain) / log2(Double(i) + 2) }
        }
        let ideal = relevant.values.sorted(by: >).prefix(10).enumerated()
            .reduce(0.0) { $0 + Double($1.element) / log2(Double($1.offset) + 2) }
        ndcgAt10 = ideal > 0 ? dcg / ideal : 0
        recallAt10 = Double(ranking.prefix(10).filter { relevant[$0] != nil }.count) / Double(relevant.count)
        recallAt100 = Double(ranking.prefix(100).filter { relevant[$0] != nil }.count) / Double(relevant.count)
        if let first = ranking.prefix(10).firstIndex(where: { relevant[$0] != nil }) { mrrAt10 = 1 / Double(first + 1) }
    }

    /// The mean of several queries' metrics.
    public static func mean(_ all: [RetrievalMetrics]) -> RetrievalMetrics {
        var m = RetrievalMetrics()
        guard !all.isEmpty else { return m }
        let n = Double(all.count)
        m.ndcgAt10 = all.reduce(0) { $0 + $1.ndcgAt10 } / n
        m.recallAt10 = all.reduce(0) { $0 + $1.recallAt10 } / n
        m.recallAt100 = all.reduce(0) { $0 + $1.recallAt100 } / n
        m.mrrAt10 = all.reduce(0) { $0 + $1.mrrAt10 } / n
        return m
    }
}
