import Foundation
import GRDB
import KBTestSupport
import XCTest
@testable import KBStore

/// `v3-document-namespaces` on a base written before it: documents posted to the API (source path
/// "api") move to the `api` namespace, everything else to `ingest`, row ids and the index kept.
final class DocumentNamespaceMigrationTests: XCTestCase {
    func testAVersion2BaseIsMigratedWithItsRowsAndIndex() throws {
        let path = try TestSupport.temporaryDirectory(self).appendingPathComponent("kb.sqlite").path
        do {
            // The file as kb wrote it with migrations v1 and v2 only.
            let queue = try DatabaseQueue(path: path)
            try queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA page_size = \(Schema.pageSize)")
                try db.execute(sql: "PRAGMA application_id = \(Schema.applicationID)")
            }
            try Schema.migrator.migrate(queue, upTo: "v2-fts-vocabulary")
            try queue.write { db in
                for (id, uri, source, text) in [(1, "/data/notes.md", "/data/notes.md", "Quokkas nap in the shade."),
                                                (2, "tides", "api", "Spring tides follow the full moon.")] as [(Int64, String, String, String)] {
                    try db.execute(sql: """
                        INSERT INTO documents(id, uri, source_path, title, format, content_hash, record_hash, text,
                            char_count, created_at, updated_at)
                        VALUES (?, ?, ?, 'T', 'text', 'c\(id)', 'r\(id)', ?, ?, 'now', 'now')
                        """, arguments: [id, uri, source, text, text.unicodeScalars.count])
                    try db.execute(sql: """
                        INSERT INTO chunks(id, document_id, ordinal, text, start_offset, end_offset, token_count, heading_path)
                        VALUES (?, ?, 0, ?, 0, ?, 5, '[]')
                        """, arguments: [id * 10, id, text, text.unicodeScalars.count])
                    try FullTextIndex.insert(db, chunkID: id * 10, title: "T", headings: [], body: text)
                }
            }
            try queue.close()
        }

        let store = try KBDatabase(path: path)
        try store.pool.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT id, namespace, uri FROM documents ORDER BY id")
            XCTAssertEqual(rows.map { [$0[0] as Int64] }, [[1], [2]])
            XCTAssertEqual(rows.map { $0[1] as String }, ["ingest", "api"])
            XCTAssertEqual(try DocumentStore.state(db, namespace: .api, uri: "tides")?.id, 2)
            XCTAssertNil(try DocumentStore.state(db, namespace: .ingest, uri: "tides"))
            XCTAssertEqual(try Int64.fetchAll(db, sql: "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH 'quokkas'"), [10])
            XCTAssertEqual(try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").count, 0)
        }
        XCTAssertEqual(try store.integrityProblems(), [])
        // The same uri may now exist once per namespace.
        try store.pool.write { db in
            try DocumentStore.put(db, Fixtures.document(uri: "tides", text: "Neap tides are weaker."))
        }
        XCTAssertEqual(try store.statistics().documents, 3)
    }
}
