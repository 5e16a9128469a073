import Foundation
import KBSearch

/// The body of `POST /v1/search` (and the retrieval part of `POST /v1/ask`).
struct SearchRequest: Decodable, Sendable {
    var query: String
    var mode: String?
    var topK: Int?
    var filters: Filters?

    /// `filters` as the CLI's `--path-prefix`, `--after`, `--before`, `--where`.
    struct Filters: Decodable, Sendable {
        var uriPrefix: String?
        var updatedAfter: String?
        var updatedBefore: String?
        var metadata: [String: String]?

        enum CodingKeys: String, CodingKey {
            case uriPrefix = "uri_prefix", updatedAfter = "updated_after", updatedBefore = "updated_before", metadata
        }

        var searchFilters: SearchFilters {
            SearchFilters(uriPrefix: uriPrefix, updatedAfter: updatedAfter, updatedBefore: updatedBefore,
                          metadata: metadata ?? [:])
        }
    }

    enum CodingKeys: String, CodingKey {
        case query, mode, topK = "top_k", filters
    }

    static let maxTopK = 100

    /// Checks the values; decoding already checked the types.
    static func validated(query: String, mode: String?, topK: Int?, field: String = "query") throws
        -> (query: String, mode: SearchMode, topK: Int) {
        let trimmed = try InputLimits.query(query, field: field)
        let modeName = mode ?? SearchMode.hybrid.rawValue
        guard let searchMode = SearchMode(rawValue: modeName) else {
            throw APIError.badRequest("invalid_mode", "field 'mode' must be one of hybrid, vector, lexical (got \"\(modeName)\")")
        }
        let count = topK ?? 10
        guard (1...maxTopK).contains(count) else {
            throw APIError.badRequest("top_k_out_of_range", "field 'top_k' must be between 1 and \(maxTopK) (got \(count))")
        }
        return (trimmed, searchMode, count)
    }
}

/// The body of the `POST /v1/search` answer: the shape of `kb search --json`, plus the time taken.
struct SearchResponse: Encodable, Sendable {
    var query: String
    var mode: String
    var results: [SearchHit]
    var tookMs: Double

    enum CodingKeys: String, CodingKey {
        case query, mode, results, tookMs = "took_ms"
    }
}
