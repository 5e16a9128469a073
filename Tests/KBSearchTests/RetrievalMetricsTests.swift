import XCTest
@testable import KBSearch

final class RetrievalMetricsTests: XCTestCase {
    func testPerfectRankingScoresOne() {
        let m = RetrievalMetrics(ranking: ["a", "b", "x"], relevant: ["a": 1, "b": 1])
        XCTAssertEqual(m.ndcgAt10, 1, accuracy: 1e-12)
        XCTAssertEqual(m.recallAt10, 1)
        XCTAssertEqual(m.mrrAt10, 1)
    }

    func testHandComputedValues() {
        // Relevant doc at rank 3 only: DCG = 1/log2(4) = 0.5, IDCG = 1.
        let m = RetrievalMetrics(ranking: ["x", "y", "a", "z"], relevant: ["a": 1, "b": 1])
        XCTAssertEqual(m.ndcgAt10, 0.5 / (1 + 1 / log2(3.0)), accuracy: 1e-12)
        XCTAssertEqual(m.recallAt10, 0.5)
        XCTAssertEqual(m.mrrAt10, 1.0 / 3)
        // Graded: gain 2 at rank 2, ideal puts it first.
        let graded = RetrievalMetrics(ranking: ["x", "g"], relevant: ["g": 2])
        XCTAssertEqual(graded.ndcgAt10, (2 / log2(3.0)) / 2, accuracy: 1e-12)
    }

    func testCutoffs() {
        let ranking = (0..<150).map { "d\($0)" }
        let m = RetrievalMetrics(ranking: ranking, relevant: ["d50": 1, "d120": 1])
        XCTAssertEqual(m.recallAt10, 0)
        XCTAssertEqual(m.recallAt100, 0.5)
        XCTAssertEqual(m.mrrAt10, 0)
        XCTAssertEqual(m.ndcgAt10, 0)
    }

    func testMean() {
        let mean = RetrievalMetrics.mean([RetrievalMetrics(ranking: ["a"], relevant: ["a": 1]),
                                          RetrievalMetrics(ranking: ["b"], relevant: ["a": 1])])
        XCTAssertEqual(mean.ndcgAt10, 0.5)
        XCTAssertEqual(mean.mrrAt10, 0.5)
    }
}
