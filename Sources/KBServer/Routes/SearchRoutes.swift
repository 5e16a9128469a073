import Foundation
import Hummingbird
import KBSearch

extension APIServer {
    /// `POST /v1/search`.
    func addSearchRoutes(_ router: some RouterMethods<KBRequestContext>) {
        router.post("/v1/search") { [self] request, _ in
            let body = try await deadlines.readBody(request)
            return try await deadlines.timed { [self] in
                let search = try JSONBody.decode(SearchRequest.self, from: body)
                let (query, mode, topK) = try SearchRequest.validated(query: search.query, mode: search.mode, topK: search.topK)
                let started = ContinuousClock.now
                let (hits, effective): ([SearchHit], SearchMode)
                do {
                    (hits, effective) = try await knowledge.search(query, mode: mode, topK: topK,
                                                                   filters: search.filters?.searchFilters ?? SearchFilters())
                } catch let error as SearchError {
                    throw APIError(.conflict, "no_vectors", error.description)
                }
                let elapsed = ContinuousClock.now - started
                metrics.recordSearch(mode: effective.rawValue, duration: elapsed)
                return JSONBody.response(SearchResponse(query: query, mode: effective.rawValue, results: hits,
                                                        tookMs: (elapsed.seconds * 1e5).rounded() / 100))
            }
        }
    }
}
