import Foundation
import GRDB
@testable import KBStore
import KBTestSupport
import XCTest
@testable import KBIngest

final class EmbeddingIngestTests: XCTestCase {
    func testChunksGetVectorsChangesReplaceThemAndNoEmbedIsBackfilled() throws {
        let directory = try TestSupport.temporaryDirectory(self)
        let docs = directory.appendingPathComponent("docs")
        let a = try TestSupport.write("# A\n\n" + TestSupport.prose(seed: 1, sentences: 40), to: "a.md", in: docs)
        try TestSupport.write(TestSupport.prose(seed: 2, sentences: 5), to: "b.txt", in: docs)
        let store = try KBDatabase(path: directory.appendingPathComponent("kb.sqlite").path)
        let chunker = Chunker(options: ChunkingOptions(), counter: try TestSupport.loadTokenizer())
        func ingest(_ embedder: HashingEmbedder?) throws -> IngestReport {
            try IngestPipeline(store: store, chunker: chunker, options: IngestOptions(), embedder: embedder).run([docs.path])
        }
        // Lexical-only first: no vectors.
        XCTAssertEqual(try ingest(nil).embedded, 0)
        XCTAssertEqual(try store.statistics().embeddings, 0)
        // A run with a model fills in every stored chunk although no document changed.
        let backfill = try ingest(HashingEmbedder())
        XCTAssertEqual(backfill.unchanged, 2)
        XCTAssertEqual(backfill.embedded, try store.statistics().chunks)
        XCTAssertEqual(try store.statistics().embeddings, try store.statistics().chunks)
        // A changed document gets new chunks with new vectors; the old ones are gone.
        try "# A\n\nShort now.".write(to: a, atomically: true, encoding: .utf8)
        let update = try ingest(HashingEmbedder())
        XCTAssertEqual(update.updated, 1)
        XCTAssertEqual(update.embedded, 1)
        let stats = try store.statistics()
        XCTAssertEqual(stats.embeddings, stats.chunks)
        let orphans = try store.pool.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM embeddings WHERE chunk_id NOT IN (SELECT id FROM chunks)")
        }
        XCTAssertEqual(orphans, 0)
        // Each vector has the model's length and unit norm.
        let model = try XCTUnwrap(try store.activeEmbeddingModel())
        XCTAssertEqual(model.name, "hashing-test")
        let (ids, vectors) = try store.read { try $0.allVectors(of: model) }
        XCTAssertEqual(vectors.count, ids.count * 64)
        let firstNorm = vectors.prefix(64).reduce(0) { $0 + $1 * $1 }
        XCTAssertEqual(firstNorm, 1, accuracy: 1e-4)
    }

    func testIngestWithAnotherModelThanTheBasesIsRefused() throws {
        let directory = try TestSupport.temporaryDirectory(self)
        try TestSupport.write("text", to: "a.txt", in: directory)
        let store = try KBDatabase(path: directory.appendingPathComponent("kb.sqlite").path)
        let chunker = Chunker(options: ChunkingOptions(), counter: try TestSupport.loadTokenizer())
        let file = directory.appendingPathComponent("a.txt").path
        _ = try IngestPipeline(store: store, chunker: chunker, options: IngestOptions(), embedder: HashingEmbedder()).run([file])
        XCTAssertThrowsError(try IngestPipeline(store: store, chunker: chunker, options: IngestOptions(),
                                                embedder: HashingEmbedder(name: "other")).run([file])) { error in
            XCTAssertEqual(error as? IngestError, .otherActiveModel(active: "hashing-test", requested: "other"))
        }
    }
}
