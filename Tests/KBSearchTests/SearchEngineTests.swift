import Foundation
import KBStore
import KBTestSupport
import XCTest
@testable import KBIngest
@testable import KBSearch

final class SearchEngineTests: XCTestCase {
    private var store: KBDatabase!
    private let embedder = HashingEmbedder()

    override func setUpWithError() throws {
        let directory = try TestSupport.temporaryDirectory(self)
        let records: [[String: Any]] = [
            ["id": "pg", "title": "PostgreSQL backups", "text": "Use pg_dump for logical backups of a cluster.",
             "metadata": ["team": "db", "tier": 1]],
            ["id": "mysql", "title": "MySQL replication", "text": "Replicas follow the primary through the binlog.",
             "metadata": ["team": "db"]],
            ["id": "nginx", "title": "Web server tuning", "text": "Raise worker connections for many idle clients.",
             "metadata": ["team": "web"]],
            ["id": "long", "title": "Long guide",
             "text": (0..<60).map { "Sentence \($0) talks about kernels and schedulers in depth." }.joined(separator: " ")],
        ]
        let lines = try records.map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }
        let file = try TestSupport.write(lines.joined(separator: "\n"), to: "docs.jsonl", in: directory)
        store = try KBDatabase(path: directory.appendingPathComponent("kb.sqlite").path)
        let chunker = Chunker(options: ChunkingOptions(maxTokens: 64, overlapTokens: 16), counter: try TestSupport.loadTokenizer())
        let report = try IngestPipeline(store: store, chunker: chunker, options: IngestOptions(), embedder: embedder)
            .run([file.path])
        XCTAssertEqual(report.added, 4)
        XCTAssertEqual(report.embedded, try store.statistics().chunks, "every chunk embedded")
    }

    private func engine() throws -> SearchEngine { try SearchEngine(store: store, embedder: embedder) }

    func testVectorModeFindsTheNearestChunk() throws {
        let hits = try engine().search("replicas follow the primary binlog", mode: .vector, topK: 2)
        XCTAssertEqual(hits.first?.uri, "mysql")
        XCTAssertEqual(hits.first?.vectorRank, 1)
        XCTAssertNil(hits.first?.lexicalRank)
        XCTAssertGreaterThan(hits.first?.score ?? 0, 0.5)
    }

    func testHybridFusesBothListsByReciprocalRank() throws {
        let engine = try engine()
        engine.fusion.method = .rrf
        let hits = try engine.search("pg_dump logical backups", mode: .hybrid, topK: 3)
        XCTAssertEqual(hits.first?.uri, "pg")
        XCTAssertEqual(hits.first?.lexicalRank, 1)
        XCTAssertEqual(hits.first?.vectorRank, 1)
        XCTAssertEqual(hits.first?.score ?? 0, 2 / 61.0, accuracy: 1e-9, "1/(60+1) from each list")
        // Weights shift the balance: with the vector list ignored, scores come from lexical ranks only.
        engine.fusion = SearchEngine.Fusion(method: .rrf, lexicalWeight: 1, vectorWeight: 0)
        let lexicalOnly = try engine.search("pg_dump logical backups", mode: .hybrid, topK: 1)
        XCTAssertEqual(lexicalOnly.first?.score ?? 0, 1 / 61.0, accuracy: 1e-9)
    }

    func testHybridScoreFusionIsTheDefault() throws {
        let engine = try engine()
        XCTAssertEqual(engine.fusion.method, .score)
        let hits = try engine.search("pg_dump logical backups", mode: .hybrid, topK: 3)
        XCTAssertEqual(hits.first?.uri, "pg")
        XCTAssertEqual(hits.first?.lexicalRank, 1)
        XCTAssertEqual(hits.first?.vectorRank, 1)
        // Every query word is in the chunk (coverage 1) and it is the most similar (normalized 1).
        XCTAssertEqual(hits.first?.score ?? 0, 1, accuracy: 1e-9)
        for hit in hits { XCTAssertTrue((0...1).contains(hit.score), "\(hit.score)") }
    }

    func testFiltersRestrictEveryMode() throws {
        let engine = try engine()
        for mode in SearchMode.allCases {
            let byTeam = try engine.search("backups replication connections", mode: mode, topK: 10,
                                           filters: SearchFilters(metadata: ["team": "web"]))
            XCTAssertEqual(Set(byTeam.map(\.uri)), ["nginx"], "\(mode)")
            let byNumber = try engine.search("backups", mode: mode, topK: 10, filters: SearchFilters(metadata: ["tier": "1"]))
            XCTAssertEqual(Set(byNumber.map(\.uri)), mode == .vector ? ["pg"] : ["pg"], "\(mode)")
            let byPrefix = try engine.search("replicas primary", mode: mode, topK: 10, filters: SearchFilters(uriPrefix: "my"))
            XCTAssertEqual(Set(byPrefix.map(\.uri)), ["mysql"], "\(mode)")
            let future = try engine.search("backups", mode: mode, topK: 10, filters: SearchFilters(updatedAfter: "2999-01-01"))
            XCTAssertEqual(future, [], "\(mode)")
        }
    }

    func testOverlappingChunksOfOneDocumentAreMerged() throws {
        let hits = try engine().search("kernels schedulers depth sentence", mode: .lexical, topK: 10)
        let long = hits.filter { $0.uri == "long" }
        XCTAssertFalse(long.isEmpty)
        for (a, b) in zip(long, long.dropFirst()) {
            XCTAssertFalse(a.startOffset < b.endOffset && b.startOffset < a.endOffset, "overlapping spans were merged")
        }
        let text = try store.read { try $0.document(id: long[0].documentID)?.text } ?? ""
        let scalars = Array(text.unicodeScalars)
        for hit in long {
            XCTAssertEqual(hit.text, String(String.UnicodeScalarView(scalars[hit.startOffset..<hit.endOffset])))
        }
    }

    func testIncrementalAddAndRemoveChangeVectorResults() throws {
        let engine = try engine()
        let pgChunk = try XCTUnwrap(try engine.search("pg_dump logical backups", mode: .vector, topK: 1).first?.chunkID)
        engine.remove(chunkIDs: [pgChunk])
        XCTAssertNotEqual(try engine.search("pg_dump logical backups", mode: .vector, topK: 1).first?.chunkID, pgChunk)
        let vector = try embedder.embed(["pg_dump logical backups"], kind: .passage)[0]
        engine.add(chunkIDs: [pgChunk], vectors: vector)
        XCTAssertEqual(try engine.search("pg_dump logical backups", mode: .vector, topK: 1).first?.chunkID, pgChunk)
    }

    func testAnotherModelIsRefusedAndABaseWithoutVectorsSearchesLexically() throws {
        XCTAssertThrowsError(try SearchEngine(store: store, embedder: HashingEmbedder(name: "other"))) { error in
            XCTAssertEqual(error as? SearchError, .modelMismatch(active: "hashing-test", loaded: "other"))
        }
        XCTAssertThrowsError(try SearchEngine(store: store, embedder: HashingEmbedder(fingerprint: "changed"))) { error in
            XCTAssertTrue("\(error)".contains("other weights"), "\(error)")
        }
        let lexicalOnly = try SearchEngine(store: store, embedder: nil)
        XCTAssertFalse(lexicalOnly.hasVectors)
        XCTAssertEqual(try lexicalOnly.search("binlog", mode: .hybrid, topK: 3).first?.uri, "mysql")
        XCTAssertThrowsError(try lexicalOnly.search("binlog", mode: .vector, topK: 3))
    }
}

extension SearchEngineTests {
    func testHybridLeavesOutDissimilarVectorResults() throws {
        let engine = try engine()
        // No word in common with any document: lexical finds nothing; vector mode still returns the
        // nearest chunks, hybrid only those at least as similar as the threshold.
        let nearest = try engine.search("zebra giraffe savanna", mode: .vector, topK: 3)
        XCTAssertFalse(nearest.isEmpty, "vector mode always returns the nearest chunks")
        engine.fusion.minimumVectorSimilarity = Float(nearest[0].score) + 0.01
        XCTAssertEqual(try engine.search("zebra giraffe savanna", mode: .hybrid, topK: 3), [])
        engine.fusion.minimumVectorSimilarity = -1
        XCTAssertFalse(try engine.search("zebra giraffe savanna", mode: .hybrid, topK: 3).isEmpty)
    }
}
