import KBTestSupport
import XCTest
@testable import KBStore

/// The rules for recording an embedding model and making it the active one, one per writer of
/// vectors (`kb ingest`, `kb serve`, `kb reembed`), and the loop that fills in missing vectors.
final class EmbeddingModelRegistrationTests: XCTestCase {
    private func makeStore() throws -> KBDatabase {
        try KBDatabase(path: TestSupport.temporaryDirectory(self).appendingPathComponent("kb.sqlite").path)
    }

    private func register(_ store: KBDatabase, _ name: String, dimensions: Int = 4, fingerprint: String = "w1",
                          _ activation: EmbeddingModelActivation) throws -> EmbeddingModelRegistration {
        try store.write { try $0.registerEmbeddingModel(name: name, dimensions: dimensions, fingerprint: fingerprint,
                                                        activation: activation) }
    }

    func testIngestActivatesItsModelAndRefusesAnotherActiveOne() throws {
        let store = try makeStore()
        let first = try register(store, "a", .activate)
        XCTAssertEqual(first.model?.name, "a")
        XCTAssertNil(first.previousActive)
        XCTAssertEqual(try store.activeEmbeddingModel()?.name, "a")
        XCTAssertEqual(try register(store, "a", .activate).model, first.model, "the same model again is recorded once")
        XCTAssertThrowsError(try register(store, "b", .activate)) { error in
            XCTAssertEqual(error as? EmbeddingStoreError, .otherActiveModel(active: "a", requested: "b"))
        }
        XCTAssertThrowsError(try register(store, "a", fingerprint: "w2", .activate)) { error in
            XCTAssertEqual(error as? EmbeddingStoreError, .fingerprintMismatch(model: "a", stored: "w1", loaded: "w2"))
        }
        XCTAssertNil(try store.read { try $0.embeddingModel(named: "b") }, "a refused model is not recorded")
    }

    func testServeRecordsItsModelOnlyWhenNoneIsActive() throws {
        let store = try makeStore()
        XCTAssertEqual(try register(store, "a", .activateIfNoneActive).model?.name, "a")
        XCTAssertEqual(try store.activeEmbeddingModel()?.name, "a")
        let second = try register(store, "b", .activateIfNoneActive)
        XCTAssertNil(second.model)
        XCTAssertEqual(second.previousActive?.name, "a")
        XCTAssertEqual(try store.activeEmbeddingModel()?.name, "a")
        XCTAssertNil(try store.read { try $0.embeddingModel(named: "b") })
    }

    func testReembedReplacesStaleWeightsAndLeavesAnotherActiveModelServing() throws {
        let store = try makeStore()
        let a = try XCTUnwrap(try register(store, "a", .activate).model)
        try store.write { writer in
            try writer.put(Fixtures.document(uri: "doc", text: "one. two.", chunks: ["one.", " two."]), embeddingModelID: nil)
            for id in try writer.chunkIDs(documentID: 1) { try writer.putVector([1, 0, 0, 0], chunkID: id, modelID: a.id) }
        }
        // Another model: recorded, but "a" stays active until the reembedding switches.
        let b = try register(store, "b", .replaceStale)
        XCTAssertEqual(b.previousActive?.name, "a")
        XCTAssertEqual(b.deletedVectors, 0)
        XCTAssertEqual(try store.activeEmbeddingModel()?.name, "a")
        // The active model with other weights: its vectors go, the new record is active at once.
        let a2 = try register(store, "a", fingerprint: "w2", .replaceStale)
        XCTAssertEqual(a2.deletedVectors, 2)
        XCTAssertEqual(try store.activeEmbeddingModel()?.fingerprint, "w2")
        XCTAssertEqual(try store.statistics().embeddings, 0)
    }

    func testFillMissingVectorsEmbedsEachChunkOnceInBatches() throws {
        let store = try makeStore()
        let model = try XCTUnwrap(try register(store, "a", dimensions: 2, .activate).model)
        try store.write { writer in
            try writer.put(Fixtures.document(uri: "doc", title: "T", text: "one. two. three.", chunks: ["one.", " two.", " three."]))
        }
        var batches: [[String]] = []
        var progress: [Int] = []
        let embedded = try store.fillMissingVectors(of: model, batchSize: 2, embed: { texts in
            batches.append(texts)
            return texts.map { _ in [1, 0] }
        }, progress: { progress.append($0) })
        XCTAssertEqual(embedded, 3)
        XCTAssertEqual(batches.map(\.count), [2, 1])
        XCTAssertEqual(batches.first?.first, "T › Section\none.", "the text is EmbeddingText's: title, headings, chunk")
        XCTAssertEqual(progress, [2, 3])
        XCTAssertEqual(try store.read { try $0.missingVectorCount(of: model) }, 0)
        XCTAssertEqual(try store.fillMissingVectors(of: model, batchSize: 2, embed: { _ in XCTFail(); return [] }), 0)
    }
}
