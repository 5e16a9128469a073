import Foundation
import GRDB
import KBIngest
@testable import KBServer
@testable import KBStore
import KBTestSupport
import XCTest

/// A damaged database file and a full disk: refused at start, reported with their own errors, and
/// reflected in `/readyz`.
final class StoreHealthTests: XCTestCase {
    private let auth = ["Authorization": "Bearer \(TestServer.apiKey)"]

    // MARK: - At start

    func testServingRefusesAFileThatFailsQuickCheckNamingItAndTheReason() async throws {
        let path = try makeBase()
        try overwritePage(ofTable: "chunks", in: path)

        // The header and the schema still look right: only the quick check finds the damage.
        XCTAssertThrowsError(try openService(path)) { error in
            guard case .corrupt(let named, let reason)? = error as? StoreError else {
                return XCTFail("expected StoreError.corrupt, got \(error)")
            }
            XCTAssertEqual(named, path)
            XCTAssertTrue(reason.contains("quick_check"), reason)
            XCTAssertTrue("\(error)".hasPrefix(path + ": the database file is corrupt"), "\(error)")
        }

        let run = try CommandRunner.run(["serve", "--db", path, "--no-embed", "--port", "0"])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertTrue(run.stderr.contains(path) && run.stderr.contains("corrupt"), run.stderr)
    }

    func testStatsCheckReportsADamagedFullTextIndex() throws {
        let path = try makeBase()
        try damageFullTextIndex(path)
        let store = try KBDatabase(path: path, mode: .readOnly)
        let problems = try store.integrityProblems()
        XCTAssertEqual(problems.count, 1, "\(problems)")
        XCTAssertTrue(problems.first?.hasPrefix("full-text index (chunks_fts):") == true, "\(problems)")

        let run = try CommandRunner.run(["stats", "--db", path, "--check"])
        XCTAssertEqual(run.status, 1, run.stdout + run.stderr)
        XCTAssertTrue(run.stdout.contains("integrity: full-text index (chunks_fts):"), run.stdout)
    }

    // MARK: - At run time

    func testCorruptionMetByASearchIsReportedAndTurnsReadinessRed() async throws {
        let server = try await TestServer(self, generator: nil)
        let before = try await server.client.request("GET", "/readyz")
        XCTAssertEqual(before.status, 200, before.text)

        try damageFullTextIndex(server.databasePath)
        let search = try await server.client.json("POST", "/v1/search", ["query": "log rotation", "mode": "lexical"])
        XCTAssertEqual(search.status, 500, search.text)
        XCTAssertEqual(search.errorCode, "database_corrupt", search.text)

        let after = try await server.client.request("GET", "/readyz")
        XCTAssertEqual(after.status, 503, after.text)
        XCTAssertEqual(after.json["status"] as? String, "not ready")
        let database = (after.json["checks"] as? [String: Any])?["database"] as? String ?? ""
        XCTAssertTrue(database.hasPrefix("corrupt ("), database)
    }

    func testAnUploadThatDoesNotFitGets507LosesNothingAndReadinessRecoversAfterAWrite() async throws {
        let server = try await TestServer(self, generator: nil)
        let store = server.server.knowledge.store
        let documentsBefore = try store.statistics().documents
        // The disk is "full" two pages from now: PRAGMA max_page_count on the pool's one writer connection.
        try await store.pool.writeWithoutTransaction { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = \(pages + 2)")
        }

        let big = TestSupport.prose(seed: 7, sentences: 3000)
        let upload = try await server.client.json("POST", "/v1/documents", ["id": "big", "text": big], headers: auth)
        XCTAssertEqual(upload.status, 507, upload.text)
        XCTAssertEqual(upload.errorCode, "insufficient_storage")
        XCTAssertTrue(upload.text.contains("full"), upload.text)

        XCTAssertEqual(try store.statistics().documents, documentsBefore, "nothing stored was lost or half-written")
        let rotate = try await server.documentID("rotate")
        let get = try await server.client.request("GET", "/v1/documents/\(rotate)")
        XCTAssertEqual(get.status, 200, get.text)
        let search = try await server.client.json("POST", "/v1/search", ["query": "logrotate gzip", "mode": "lexical"])
        XCTAssertEqual(((search.json["results"] as? [[String: Any]])?.first?["document_id"] as? NSNumber)?.int64Value, rotate)

        let full = try await server.client.request("GET", "/readyz")
        XCTAssertEqual(full.status, 503, full.text)
        let check = (full.json["checks"] as? [String: Any])?["database"] as? String ?? ""
        XCTAssertTrue(check.hasPrefix("disk full ("), check)

        // Space is freed: the next write that commits makes the server ready again.
        try await store.pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA max_page_count = 1073741823") }
        let small = try await server.client.json("POST", "/v1/documents", ["id": "small", "text": "A small note fits."],
                                                 headers: auth)
        XCTAssertEqual(small.status, 201, small.text)
        let recovered = try await server.client.request("GET", "/readyz")
        XCTAssertEqual(recovered.status, 200, recovered.text)
    }

    // MARK: - Helpers

    /// A base with the test corpus, closed, its WAL folded into the file.
    private func makeBase() throws -> String {
        let path = try TestSupport.temporaryDirectory(self).appendingPathComponent("kb.sqlite").path
        let store = try KBDatabase(path: path)
        let pipeline = IngestPipeline(store: store, chunker: Chunker(options: ChunkingOptions(), counter: try TestSupport.loadTokenizer()),
                                      options: IngestOptions())
        let records = try TestServer.corpus.map { object in
            try JSONSerialization.data(withJSONObject: object).withUnsafeBytes { try JSONLinesReader.parse(line: $0) }
        }
        _ = try pipeline.ingest(records: records, sourcePath: "api")
        try store.pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try store.pool.close()
        return path
    }

    private func openService(_ path: String) throws -> KnowledgeBase {
        try KnowledgeBase(store: try KBDatabase(path: path), embedder: nil,
                             chunker: Chunker(options: ChunkingOptions(), counter: try TestSupport.loadTokenizer()))
    }

    /// Overwrites the root page of a table with 0xFF bytes, as a bad sector or a stray write would.
    private func overwritePage(ofTable table: String, in path: String) throws {
        let queue = try DatabaseQueue(path: path)
        let root = try queue.read { db in
            try Int.fetchOne(db, sql: "SELECT rootpage FROM sqlite_master WHERE name = ?", arguments: [table])
        }
        try queue.close()
        let page = try XCTUnwrap(root)
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        try handle.seek(toOffset: UInt64((page - 1) * Schema.pageSize))
        try handle.write(contentsOf: Data(repeating: 0xFF, count: Schema.pageSize))
        try handle.close()
    }

    /// Garbles every leaf of the FTS5 index (the b-trees stay sound, so `quick_check` passes) through
    /// a connection of its own, as a damaged write would leave them.
    private func damageFullTextIndex(_ path: String) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: "UPDATE chunks_fts_data SET block = x'ffffffffffffffffffffffffffffffff' WHERE id > 10")
        }
        try queue.close()
    }
}
