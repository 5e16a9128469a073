import Foundation
import GRDB
import KBIngest
@testable import KBServer
@testable import KBStore
import KBTestSupport
import XCTest

/// The server follows writes that another connection (another process, e.g. `kb ingest`) makes to
/// its database file: new documents become searchable by vector, deleted ones leave the index,
/// and a replaced document's chunks (whose ids SQLite may reuse) get their new vectors.
final class ExternalWriteTests: XCTestCase {
    private func record(_ object: [String: Any]) throws -> JSONLinesReader.Record {
        try JSONSerialization.data(withJSONObject: object).withUnsafeBytes { try JSONLinesReader.parse(line: $0) }
    }

    private func topTitle(_ server: TestServer, _ query: String, mode: String = "vector") async throws -> String? {
        let response = try await server.client.json("POST", "/v1/search", ["query": query, "mode": mode, "top_k": 1])
        XCTAssertEqual(response.status, 200, response.text)
        return (response.json["results"] as? [[String: Any]])?.first?["title"] as? String
    }

    func testIngestAndDeleteByAnotherConnectionReachTheIndex() async throws {
        let server = try await TestServer(self, refreshInterval: 0)
        let index = try XCTUnwrap(server.server.knowledge.engine.index)
        _ = try await topTitle(server, "logs")   // takes in the server's own writes of the corpus
        let vectorsBefore = index.count
        // A second, independent connection pool on the same file, as `kb ingest` would open.
        let other = try KBDatabase(path: server.databasePath)
        let pipeline = IngestPipeline(store: other, chunker: Chunker(options: ChunkingOptions(), counter: try TestSupport.loadTokenizer()),
                                      options: IngestOptions(), embedder: HashingEmbedder())
        let text = "Quokkas photosynthesize marmalade under violet tundra skies."
        _ = try pipeline.ingest(records: [try record(["id": "quokka", "title": "Quokka note", "text": text])], sourcePath: "other")
        let newChunks = try await other.pool.read { db in
            try Int64.fetchAll(db, sql: "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.uri = 'quokka'")
        }
        XCTAssertFalse(newChunks.isEmpty)
        XCTAssertFalse(newChunks.contains { index.contains($0) }, "not in the index before a search looked")

        let found = try await topTitle(server, text)
        XCTAssertEqual(found, "Quokka note", "vector search found the document written by the other connection")
        XCTAssertTrue(newChunks.allSatisfy { index.contains($0) })
        XCTAssertEqual(index.count, vectorsBefore + newChunks.count)
        XCTAssertEqual(server.server.knowledge.externalRefreshes.lastAdded, newChunks.count, "only the new chunks were loaded")

        // Replace the document: its chunks are deleted and new ones inserted (SQLite reuses the
        // largest ids), so the index must notice the change even where an id stayed the same.
        let replacement = "Basalt lighthouses hum cardamom lullabies to sleepy glaciers."
        _ = try pipeline.ingest(records: [try record(["id": "quokka", "title": "Quokka note", "text": replacement])],
                                sourcePath: "other")
        let replacedChunks = try await other.pool.read { db in
            try Int64.fetchAll(db, sql: "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.uri = 'quokka'")
        }
        let replacedFound = try await topTitle(server, replacement)
        XCTAssertEqual(replacedFound, "Quokka note")
        let change = server.server.knowledge.externalRefreshes
        XCTAssertGreaterThanOrEqual(change.lastAdded, replacedChunks.count, "the replaced chunks got their new vectors")
        let storedVector = try other.read { reader -> [Float]? in
            let model = try XCTUnwrap(reader.activeEmbeddingModel())
            return try reader.vectors(of: model, chunkIDs: [replacedChunks[0]])[replacedChunks[0]]
        }
        let indexed = index.search(try XCTUnwrap(storedVector), k: 1)
        XCTAssertEqual(indexed.first?.id, replacedChunks[0], "the index holds the replaced chunk's new vector")
        XCTAssertEqual(Double(indexed.first?.score ?? 0), 1, accuracy: 1e-3)

        // Delete it from the other connection: its vectors leave the index.
        try await other.pool.write { db in
            let id = try XCTUnwrap(Int64.fetchOne(db, sql: "SELECT id FROM documents WHERE uri = 'quokka'"))
            try DocumentStore.delete(db, documentID: id)
        }
        let afterDelete = try await topTitle(server, replacement)
        XCTAssertNotEqual(afterDelete, "Quokka note")
        XCTAssertFalse(replacedChunks.contains { index.contains($0) }, "the deleted chunks left the index")
        XCTAssertEqual(index.count, vectorsBefore)
        let lexical = try await topTitle(server, "cardamom lullabies", mode: "lexical")
        XCTAssertNil(lexical, "lexical search reads the database, so the deleted document is gone there too")
    }

    func testChecksAreRateLimited() async throws {
        let server = try await TestServer(self, refreshInterval: 3600)
        _ = try await topTitle(server, "logs")   // the first search checks
        let refreshes = server.server.knowledge.externalRefreshes.count
        let vectors = server.server.knowledge.engine.index?.count
        let other = try KBDatabase(path: server.databasePath)
        let pipeline = IngestPipeline(store: other, chunker: Chunker(options: ChunkingOptions(), counter: try TestSupport.loadTokenizer()),
                                      options: IngestOptions(), embedder: HashingEmbedder())
        _ = try pipeline.ingest(records: [try record(["id": "late", "title": "Late note", "text": "Ocelots juggle plum anvils."])],
                                sourcePath: "other")
        _ = try await topTitle(server, "Ocelots juggle plum anvils.")
        XCTAssertEqual(server.server.knowledge.externalRefreshes.count, refreshes, "no second check within the interval")
        XCTAssertEqual(server.server.knowledge.engine.index?.count, vectors)
    }
}
