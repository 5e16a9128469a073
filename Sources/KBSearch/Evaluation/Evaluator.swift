import Foundation
import KBStore

/// Runs a BEIR set's queries through a ``SearchEngine`` and averages the metrics per mode.
public struct Evaluator: Sendable {
    public struct ModeResult: Sendable, Codable {
        public var metrics: RetrievalMetrics
        /// Mean search latency per query, milliseconds (query embedding included).
        public var meanLatencyMilliseconds: Double
    }

    public let engine: SearchEngine

    public init(engine: SearchEngine) { self.engine = engine }

    /// - Parameter progress: called after each query with (mode, queries done).
    public func evaluate(_ dataset: BEIRDataset, modes: [SearchMode], filters: SearchFilters = SearchFilters(),
                         progress: (SearchMode, Int) -> Void = { _, _ in }) throws -> [SearchMode: ModeResult] {
        // Results name documents by stored id; the dataset by corpus id (the JSON Lines id = uri).
        let uriOfDocument = try engine.store.read { try $0.documentURIs() }
        var results: [SearchMode: ModeResult] = [:]
        for mode in modes {
            var perQuery: [RetrievalMetrics] = []
            var seconds = 0.0
            for (n, query) in dataset.queries.enumerated() {
                let start = DispatchTime.now().uptimeNanoseconds
                let hits = try engine.search(query.text, mode: mode, topK: 100, filters: filters, snippets: false)
                seconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                var ranking: [String] = []
                var seen = Set<String>()
                for hit in hits {
                    guard let uri = uriOfDocument[hit.documentID], seen.insert(uri).inserted else { continue }
                    ranking.append(uri)
                }
                perQuery.append(RetrievalMetrics(ranking: ranking, relevant: dataset.judgements[query.id] ?? [:]))
                progress(mode, n + 1)
            }
            results[mode] = ModeResult(metrics: .mean(perQuery),
                                       meanLatencyMilliseconds: seconds * 1000 / Double(max(1, perQuery.count)))
        }
        return results
    }
}
