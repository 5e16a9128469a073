import GRDB
import KBTestSupport
import XCTest
@testable import KBStore

final class DocumentStoreTests: XCTestCase {
    private func makeStore() throws -> KBDatabase {
        try KBDatabase(path: TestSupport.temporaryDirectory(self).appendingPathComponent("kb.sqlite").path)
    }

    /// Chunk ids matching an FTS5 expression.
    private func match(_ store: KBDatabase, _ expression: String) throws -> [Int64] {
        try store.pool.read { db in
            try Int64.fetchAll(db, sql: "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rowid",
                               arguments: [expression])
        }
    }

    func testPutReportsAddedUnchangedAndUpdated() throws {
        let store = try makeStore()
        let first = Fixtures.document(uri: "doc", text: "alpha beta gamma")
        let outcomes = try store.pool.write { db -> [StoreOutcome] in
            let a = try DocumentStore.put(db, first)
            let b = try DocumentStore.put(db, first)
            let c = try DocumentStore.put(db, Fixtures.document(uri: "doc", text: "delta epsilon"))
            return [a, b, c]
        }
        guard case .added(let id) = outcomes[0] else { return XCTFail("\(outcomes)") }
        XCTAssertEqual(outcomes[1], .unchanged(documentID: id))
        XCTAssertEqual(outcomes[2], .updated(documentID: id))
        XCTAssertEqual(try store.statistics().documents, 1)
    }

    func testUpdatingADocumentReplacesItsChunksInTheFullTextIndex() throws {
        let store = try makeStore()
        try store.pool.write { db in
            try DocumentStore.put(db, Fixtures.document(uri: "doc", text: "alpha beta. gamma delta.",
                                                        chunks: ["alpha beta.", " gamma delta."]))
        }
        XCTAssertEqual(try match(store, "alpha").count, 1)
        try store.pool.write { db in
            try DocumentStore.put(db, Fixtures.document(uri: "doc", title: "Renamed", text: "zeta eta"))
        }
        XCTAssertEqual(try match(store, "alpha"), [])
        XCTAssertEqual(try match(store, "gamma"), [])
        XCTAssertEqual(try match(store, "title"), [], "the old title must leave the index too")
        XCTAssertEqual(try match(store, "zeta").count, 1)
        XCTAssertEqual(try match(store, "renamed").count, 1)
        XCTAssertEqual(try store.statistics().chunks, 1)
        try store.pool.write { db in try db.execute(sql: "INSERT INTO chunks_fts(chunks_fts) VALUES ('integrity-check')") }
    }

    func testDeleteRemovesDocumentChunksIndexRowsAndEmbeddings() throws {
        let store = try makeStore()
        try store.pool.write { db in
            guard case .added(let id) = try DocumentStore.put(db, Fixtures.document(uri: "doc", text: "alpha")) else {
                return XCTFail("not added")
            }
            try db.execute(sql: "INSERT INTO embedding_models(name, dimensions, fingerprint, created_at) VALUES ('m', 2, 'f', 'now')")
            try db.execute(sql: "INSERT INTO embeddings(chunk_id, model_id, vector) SELECT id, 1, x'0000803F00000040' FROM chunks")
            try DocumentStore.delete(db, documentID: id)
        }
        XCTAssertEqual(try store.statistics(), .init(documents: 0, chunks: 0, embeddings: 0))
        XCTAssertEqual(try match(store, "alpha"), [])
    }

    func testChineseIsIndexedOneCharacterPerToken() throws {
        let store = try makeStore()
        try store.pool.write { db in
            try DocumentStore.put(db, Fixtures.document(uri: "zh", title: "说明", text: "全文检索引擎支持中文。"))
        }
        // Phrases of one, two and four characters all match; characters out of order do not.
        XCTAssertEqual(try match(store, "\"检\"").count, 1)
        XCTAssertEqual(try match(store, "\"检 索\"").count, 1)
        XCTAssertEqual(try match(store, "\"检 索 引 擎\"").count, 1)
        XCTAssertEqual(try match(store, "\"索 检\"").count, 0)
    }

    func testDuplicateLooksUpOtherDocumentsWithTheSameText() throws {
        let store = try makeStore()
        let original = Fixtures.document(uri: "a", text: "same words")
        try store.pool.write { db in
            try DocumentStore.put(db, original)
            XCTAssertEqual(try DocumentStore.duplicate(db, contentHash: original.contentHash, namespace: .ingest, otherThan: "b"), "a")
            XCTAssertNil(try DocumentStore.duplicate(db, contentHash: original.contentHash, namespace: .ingest, otherThan: "a"))
        }
    }

    func testSegmenterVersionChangeRebuildsTheIndex() throws {
        let path = try TestSupport.temporaryDirectory(self).appendingPathComponent("kb.sqlite").path
        do {
            let store = try KBDatabase(path: path)
            try store.pool.write { db in
                try DocumentStore.put(db, Fixtures.document(uri: "doc", text: "alpha"))
                try db.execute(sql: "INSERT INTO chunks_fts(chunks_fts) VALUES ('delete-all')")
                try db.execute(sql: "UPDATE settings SET value = 'old' WHERE key = 'fts_segmenter'")
            }
            XCTAssertEqual(try match(store, "alpha"), [])
        }
        let reopened = try KBDatabase(path: path)
        XCTAssertEqual(try match(reopened, "alpha").count, 1)
    }
}
