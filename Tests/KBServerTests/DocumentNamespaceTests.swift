import Foundation
import GRDB
import KBIngest
@testable import KBServer
@testable import KBStore
import KBTestSupport
import XCTest

/// API records live in their own namespace: a writer posting a record whose id is an ingested
/// file's uri gets a document of its own, and cannot delete the file's.
final class DocumentNamespaceTests: XCTestCase {
    private let auth = ["Authorization": "Bearer \(TestServer.apiKey)"]

    func testARecordWithAFilesURIDoesNotReplaceOrDeleteTheFilesDocument() async throws {
        let server = try await TestServer(self, generator: nil, refreshInterval: 0)
        // `kb ingest` of a file into the served base (another connection, as another process would).
        let directory = try TestSupport.temporaryDirectory(self)
        let file = try TestSupport.write("# Runbook\n\nRestart the queue workers after a deploy.", to: "runbook.md", in: directory)
        let ingest = IngestPipeline(store: try KBDatabase(path: server.databasePath),
                                    chunker: Chunker(options: ChunkingOptions(), counter: try TestSupport.loadTokenizer()),
                                    options: IngestOptions(), embedder: HashingEmbedder())
        let report = try ingest.run([file.path])
        XCTAssertEqual(report.added, 1)
        let (fileDocument, uri) = try await server.server.knowledge.offload { [store = server.server.knowledge.store] in
            try store.pool.read { db in
                let row = try XCTUnwrap(try Row.fetchOne(db, sql: "SELECT id, uri FROM documents WHERE title = 'Runbook'"))
                return (row[0] as Int64, row[1] as String)
            }
        }
        let before = try await server.client.request("GET", "/v1/documents/\(fileDocument)")
        XCTAssertEqual(before.status, 200, before.text)

        // The attack: a record whose id is the file's uri.
        let post = try await server.client.json("POST", "/v1/documents",
                                                ["id": uri, "title": "Runbook", "text": "Delete every backup now."],
                                                headers: auth)
        XCTAssertEqual(post.status, 201, post.text)
        let outcome = try XCTUnwrap((post.json["documents"] as? [[String: Any]])?.first)
        XCTAssertEqual(outcome["status"] as? String, "added", "a new API document, not an update of the file's")
        XCTAssertNotEqual((outcome["document_id"] as? NSNumber)?.int64Value, fileDocument)

        let after = try await server.client.request("GET", "/v1/documents/\(fileDocument)")
        XCTAssertEqual(after.status, 200, after.text)
        XCTAssertEqual(after.json["text"] as? String, before.json["text"] as? String, "the file's document is untouched")
        XCTAssertEqual(after.json["updated_at"] as? String, before.json["updated_at"] as? String)

        let delete = try await server.client.request("DELETE", "/v1/documents/\(fileDocument)", headers: auth)
        XCTAssertEqual(delete.status, 409, delete.text)
        XCTAssertEqual(delete.errorCode, "not_an_api_document")
        XCTAssertTrue(delete.text.contains("kb ingest --prune"), delete.text)
        let still = try await server.client.request("GET", "/v1/documents/\(fileDocument)")
        XCTAssertEqual(still.status, 200, "the file's document survives the API's delete")

        // Re-ingesting the file keeps its own document, unchanged, beside the API's.
        let again = try ingest.run([file.path])
        XCTAssertEqual(again.unchanged, 1)
        XCTAssertEqual(try server.server.knowledge.store.statistics().documents, TestServer.corpus.count + 2)
    }
}
