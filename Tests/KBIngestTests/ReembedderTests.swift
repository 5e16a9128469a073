import Foundation
import GRDB
@testable import KBStore
import KBTestSupport
import XCTest
@testable import KBIngest

final class ReembedderTests: XCTestCase {
    func testSwitchingModelsKeepsOldVectorsServingUntilTheSwitch() throws {
        let directory = try TestSupport.temporaryDirectory(self)
        for i in 0..<6 { try TestSupport.write(TestSupport.prose(seed: UInt64(i), sentences: 30), to: "d\(i).txt", in: directory) }
        let store = try KBDatabase(path: directory.appendingPathComponent("kb.sqlite").path)
        let chunker = Chunker(options: ChunkingOptions(maxTokens: 64, overlapTokens: 0), counter: try TestSupport.loadTokenizer())
        _ = try IngestPipeline(store: store, chunker: chunker, options: IngestOptions(), embedder: HashingEmbedder())
            .run([directory.path])
        let chunks = try store.statistics().chunks
        XCTAssertGreaterThan(chunks, 12)

        var reembedder = Reembedder(store: store, embedder: HashingEmbedder(name: "second", dimensions: 32))
        reembedder.batchSize = 5
        var observedActive: [String] = []
        let report = try reembedder.run { _, _ in
            // Mid-way, searches still use the old model.
            observedActive.append(try! store.activeEmbeddingModel()?.name ?? "")
        }
        XCTAssertEqual(Set(observedActive), ["hashing-test"])
        XCTAssertEqual(report.model, "second")
        XCTAssertEqual(report.previousModel, "hashing-test")
        XCTAssertEqual(report.embedded, chunks)
        XCTAssertEqual(report.deletedVectors, chunks)
        let (active, models, vectors) = try store.pool.read { db in
            (try EmbeddingStore.activeModel(db), try String.fetchAll(db, sql: "SELECT name FROM embedding_models"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM embeddings") ?? 0)
        }
        XCTAssertEqual(active?.name, "second")
        XCTAssertEqual(active?.dimensions, 32)
        XCTAssertEqual(models, ["second"])
        XCTAssertEqual(vectors, chunks)
    }

    func testSameModelFillsGapsAndChangedWeightsAreRecomputed() throws {
        let directory = try TestSupport.temporaryDirectory(self)
        try TestSupport.write(TestSupport.prose(seed: 1, sentences: 30), to: "a.txt", in: directory)
        let store = try KBDatabase(path: directory.appendingPathComponent("kb.sqlite").path)
        let chunker = Chunker(options: ChunkingOptions(maxTokens: 64, overlapTokens: 0), counter: try TestSupport.loadTokenizer())
        _ = try IngestPipeline(store: store, chunker: chunker, options: IngestOptions(), embedder: HashingEmbedder())
            .run([directory.path])
        try store.pool.write { db in try db.execute(sql: "DELETE FROM embeddings WHERE chunk_id IN (SELECT chunk_id FROM embeddings ORDER BY chunk_id LIMIT 2)") }
        let fill = try Reembedder(store: store, embedder: HashingEmbedder()).run()
        XCTAssertEqual(fill.embedded, 2)
        XCTAssertEqual(fill.deletedVectors, 0)
        let changed = try Reembedder(store: store, embedder: HashingEmbedder(fingerprint: "new-weights")).run()
        XCTAssertEqual(changed.embedded, try store.statistics().chunks)
        XCTAssertEqual(try store.activeEmbeddingModel()?.fingerprint, "new-weights")
    }
}
