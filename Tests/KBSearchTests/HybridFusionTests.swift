import Foundation
import KBStore
import KBTestSupport
import XCTest
@testable import KBIngest
@testable import KBSearch

/// The fusion functions on hand-built lists: the expected orders follow from their definitions.
final class HybridFusionTests: XCTestCase {
    private func lexical(_ ids: [Int64]) -> [RankedChunk] {
        ids.enumerated().map { RankedChunk(chunkID: $1, score: 10 - Double($0), lexicalRank: $0 + 1, vectorRank: nil) }
    }

    private func vector(_ items: [(Int64, Double)]) -> [RankedChunk] {
        items.enumerated().map { RankedChunk(chunkID: $1.0, score: $1.1, lexicalRank: nil, vectorRank: $0 + 1) }
    }

    // A = 1, B = 2, C = 3. Lexical: A (covers 1/4 of the query), B (all of it).
    // Vector: C 0.9, B 0.8, A 0.5 → normalized C 1, B 0.75, A 0.
    private let lexicalList: [Int64] = [1, 2]
    private let coverage: [Int64: Double] = [1: 0.25, 2: 1]
    private let vectorList: [(Int64, Double)] = [(3, 0.9), (2, 0.8), (1, 0.5)]

    func testScoreFusionIsTheWeightedMeanOfCoverageAndNormalizedSimilarity() {
        let fused = HybridFusion.scores(lexical: lexical(lexicalList), coverage: coverage, vector: vector(vectorList),
                                        lexicalWeight: 1, vectorWeight: 1)
        XCTAssertEqual(fused.map(\.chunkID), [2, 3, 1])
        XCTAssertEqual(fused[0].score, (1 + 0.75) / 2, accuracy: 1e-12)
        XCTAssertEqual(fused[1].score, (0 + 1) / 2, accuracy: 1e-12)
        XCTAssertEqual(fused[2].score, (0.25 + 0) / 2, accuracy: 1e-12)
        XCTAssertEqual(fused[0].lexicalRank, 2)
        XCTAssertEqual(fused[0].vectorRank, 2)
        XCTAssertNil(fused[1].lexicalRank)
    }

    func testWeightsShiftScoreFusionToOneList() {
        let byVector = HybridFusion.scores(lexical: lexical(lexicalList), coverage: coverage, vector: vector(vectorList),
                                           lexicalWeight: 0, vectorWeight: 1)
        XCTAssertEqual(byVector.map(\.chunkID), [3, 2, 1])
        let byCoverage = HybridFusion.scores(lexical: lexical(lexicalList), coverage: coverage, vector: vector(vectorList),
                                             lexicalWeight: 1, vectorWeight: 0)
        XCTAssertEqual(byCoverage.map(\.chunkID), [2, 1, 3])
        let threeToOne = HybridFusion.scores(lexical: lexical(lexicalList), coverage: coverage, vector: vector(vectorList),
                                             lexicalWeight: 3, vectorWeight: 1)
        // A: (3·0.25 + 0)/4 = 0.1875 < C: (0 + 1)/4 = 0.25 < B: (3 + 0.75)/4.
        XCTAssertEqual(threeToOne.map(\.chunkID), [2, 3, 1])
        XCTAssertEqual(threeToOne[2].score, 0.1875, accuracy: 1e-12)
    }

    func testCosinesNormalizeBetweenTheBestAndTheNthResult() {
        // N = 2: C 0.9 → 1, B 0.8 → 0, A 0.5 → max(0, −3) = 0.
        let fused = HybridFusion.scores(lexical: [], coverage: [:], vector: vector(vectorList),
                                        lexicalWeight: 1, vectorWeight: 1, normalizationDepth: 2)
        XCTAssertEqual(fused.map(\.chunkID), [3, 2, 1], "equal scores: vector order")
        XCTAssertEqual(fused.map(\.score), [0.5, 0, 0])
        // Deeper than the list: the last result is the floor.
        let shallow = HybridFusion.scores(lexical: [], coverage: [:], vector: vector(vectorList),
                                          lexicalWeight: 1, vectorWeight: 1, normalizationDepth: 50)
        XCTAssertEqual(shallow[1].score, 0.75 / 2, accuracy: 1e-12)
    }

    func testEqualScoresGoToTheBetterLexicalThenVectorRank() {
        // Both lexical hits cover everything and nothing is in the vector list: 0.5 each, lexical order.
        let lexicalOnly = HybridFusion.scores(lexical: lexical([9, 4]), coverage: [9: 1, 4: 1], vector: [],
                                              lexicalWeight: 1, vectorWeight: 1)
        XCTAssertEqual(lexicalOnly.map(\.chunkID), [9, 4])
        XCTAssertEqual(lexicalOnly.map(\.score), [0.5, 0.5])
        // Equal cosines normalize to 1; the vector order decides.
        let flat = HybridFusion.scores(lexical: [], coverage: [:], vector: vector([(7, 0.8), (5, 0.8)]),
                                       lexicalWeight: 1, vectorWeight: 1)
        XCTAssertEqual(flat.map(\.chunkID), [7, 5])
        XCTAssertEqual(flat.map(\.score), [0.5, 0.5])
    }

    func testReciprocalRankFusionIgnoresScores() {
        let fused = HybridFusion.reciprocalRank(lexical: lexical(lexicalList), vector: vector(vectorList),
                                                lexicalWeight: 1, vectorWeight: 1, k: 60)
        // A: 1/61 + 1/63, B: 1/62 + 1/62, C: 1/61.
        XCTAssertEqual(fused.map(\.chunkID), [1, 2, 3])
        XCTAssertEqual(fused[0].score, 1 / 61.0 + 1 / 63.0, accuracy: 1e-12)
        XCTAssertEqual(fused[1].score, 2 / 62.0, accuracy: 1e-12)
        XCTAssertEqual(fused[2].score, 1 / 61.0, accuracy: 1e-12)
        // The weak lexical hit A wins under RRF; score fusion puts it last (its coverage is 1/4 and
        // it is the least similar), which is the point of score fusion.
        let scored = HybridFusion.scores(lexical: lexical(lexicalList), coverage: coverage, vector: vector(vectorList),
                                         lexicalWeight: 1, vectorWeight: 1)
        XCTAssertEqual(scored.last?.chunkID, 1)
    }

    func testCoverageIsTheIDFWeightedShareOfQueryTermsInTheChunk() throws {
        let directory = try TestSupport.temporaryDirectory(self)
        // "数据文件" is in four documents, "策略游戏" in two, "象棋" in none.
        let records: [(String, String)] = [
            ("both", "古代战争实时策略游戏的数据文件。"), ("game", "一个回合制策略游戏。"),
            ("data1", "通用数据文件。"), ("data2", "图标数据文件。"), ("data3", "字体数据文件。"), ("other", "网络工具。"),
        ]
        let lines = try records.map { id, text in
            String(decoding: try JSONSerialization.data(withJSONObject: ["id": id, "text": text]), as: UTF8.self)
        }
        let file = try TestSupport.write(lines.joined(separator: "\n"), to: "docs.jsonl", in: directory)
        let store = try KBDatabase(path: directory.appendingPathComponent("kb.sqlite").path)
        let chunker = Chunker(options: ChunkingOptions(), counter: try TestSupport.loadTokenizer())
        XCTAssertEqual(try IngestPipeline(store: store, chunker: chunker, options: IngestOptions()).run([file.path]).added, 6)
        let terms = QueryTerms.parse("策略游戏（数据文件） 象棋")
        XCTAssertEqual(terms.count, 3)
        let hits = try LexicalSearch(store: store).search("策略游戏（数据文件） 象棋", topK: 10)
        XCTAssertEqual(Set(hits.map(\.uri)), ["both", "game", "data1", "data2", "data3"])
        let uriOf = Dictionary(uniqueKeysWithValues: hits.map { ($0.chunkID, $0.uri) })
        let byID = try store.read { reader in try LexicalCoverage.of(reader, terms: terms, chunkIDs: hits.map(\.chunkID) + [999]) }
        let coverage = Dictionary(uniqueKeysWithValues: byID.map { (uriOf[$0.key] ?? "?", $0.value) })
        func idf(_ n: Double) -> Double { log(1 + (6 - n + 0.5) / (n + 0.5)) }
        let total = idf(2) + idf(4) + idf(0)
        XCTAssertEqual(coverage["both"] ?? -1, (idf(2) + idf(4)) / total, accuracy: 1e-9)
        XCTAssertEqual(coverage["game"] ?? -1, idf(2) / total, accuracy: 1e-9)
        XCTAssertEqual(coverage["data1"] ?? -1, idf(4) / total, accuracy: 1e-9)
        XCTAssertEqual(coverage.count, 5, "only the candidates, each once")
        XCTAssertGreaterThan(coverage["game"]!, coverage["data1"]!, "the rarer term is stronger evidence")
    }
}
