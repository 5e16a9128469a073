@testable import KBServer
import XCTest

/// The attribution's sentence-vector cache: texts embedded once, in order, least recently used evicted.
final class SentenceEmbeddingCacheTests: XCTestCase {
    func testEmbedsOnlyWhatItHasNotSeenAndKeepsTheOrder() throws {
        let cache = SentenceEmbeddingCache(capacity: 10)
        var calls: [[String]] = []
        func embed(_ texts: [String]) -> [[Float]] {
            calls.append(texts)
            return texts.map { [Float($0.count), Float($0.unicodeScalars.first!.value)] }
        }
        let first = try cache.vectors(of: ["alpha", "be", "alpha", "gamma"], embed: embed)
        XCTAssertEqual(first, [[5, 97], [2, 98], [5, 97], [5, 103]])
        XCTAssertEqual(calls.count, 1)
        XCTAssertEqual(Set(calls[0]), ["alpha", "be", "gamma"], "a repeated text is embedded once")
        let second = try cache.vectors(of: ["gamma", "delta", "be"], embed: embed)
        XCTAssertEqual(second, [[5, 103], [5, 100], [2, 98]])
        XCTAssertEqual(calls.last, ["delta"], "only the new text is embedded")
        XCTAssertEqual(cache.counts.hits, 2)
        _ = try cache.vectors(of: ["gamma"], embed: embed)
        XCTAssertEqual(calls.count, 2, "all cached: no call")
    }

    func testStaysWithinItsCapacityEvictingTheLeastRecentlyUsed() throws {
        let cache = SentenceEmbeddingCache(capacity: 20)
        let embed: ([String]) -> [[Float]] = { $0.map { [Float($0.count)] } }
        _ = try cache.vectors(of: ["keep"], embed: embed)
        for round in 0..<10 {
            _ = try cache.vectors(of: (0..<5).map { "text \(round) \($0)" }, embed: embed)
            _ = try cache.vectors(of: ["keep"], embed: embed)   // used every round
        }
        XCTAssertLessThanOrEqual(cache.count, 20)
        var embedded: [String] = []
        _ = try cache.vectors(of: ["keep"]) { texts in embedded += texts; return embed(texts) }
        XCTAssertEqual(embedded, [], "the text used every round was never evicted")
    }
}
