import Foundation
import GRDB
import KBTestSupport
import XCTest
@testable import KBStore
import KBSupport

final class KBDatabaseTests: XCTestCase {
    func testNewDatabaseUsesWALPageSize8192AndTheKbApplicationID() throws {
        let path = try TestSupport.temporaryDirectory(self).appendingPathComponent("kb.sqlite").path
        let store = try KBDatabase(path: path)
        try store.pool.read { db in
            XCTAssertEqual(try Int.fetchOne(db, sql: "PRAGMA page_size"), 8192)
            XCTAssertEqual(try String.fetchOne(db, sql: "PRAGMA journal_mode"), "wal")
            XCTAssertEqual(try Int32.fetchOne(db, sql: "PRAGMA application_id"), Schema.applicationID)
        }
        XCTAssertEqual(try store.integrityProblems(), [])
    }

    func testReopeningAnExistingDatabaseKeepsItsContents() throws {
        let path = try TestSupport.temporaryDirectory(self).appendingPathComponent("kb.sqlite").path
        do {
            let store = try KBDatabase(path: path)
            try store.pool.write { db in try DocumentStore.put(db, Fixtures.document(uri: "a", text: "alpha beta")) }
        }
        let reopened = try KBDatabase(path: path, mode: .readOnly)
        XCTAssertEqual(try reopened.statistics(), .init(documents: 1, chunks: 1, embeddings: 0))
    }

    func testAFileThatIsNotSQLiteIsRejectedAndLeftUntouched() throws {
        let directory = try TestSupport.temporaryDirectory(self)
        let url = try TestSupport.write("name,age\nada,36\n", to: "people.csv", in: directory)
        XCTAssertThrowsError(try KBDatabase(path: url.path)) { error in
            XCTAssertEqual(error as? StoreError, .notSQLite(path: url.path))
            XCTAssertTrue("\(error)".contains(url.path))
        }
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "name,age\nada,36\n")
    }

    func testAnotherProgramsSQLiteDatabaseIsRejectedAndNotModified() throws {
        let directory = try TestSupport.temporaryDirectory(self)
        let path = directory.appendingPathComponent("other.db").path
        do {
            let queue = try DatabaseQueue(path: path)
            try queue.write { db in
                try db.execute(sql: "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
                try db.execute(sql: "INSERT INTO invoices(total) VALUES (12.5)")
            }
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try KBDatabase(path: path)) { error in
            guard case .notKnowledgeBase(let reported, let detail)? = error as? StoreError else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(reported, path)
            XCTAssertTrue(detail.contains("invoices"), detail)
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), before)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + "-wal"))
    }

    func testADatabaseFromANewerSchemaIsRejected() throws {
        let path = try TestSupport.temporaryDirectory(self).appendingPathComponent("kb.sqlite").path
        do {
            let store = try KBDatabase(path: path)
            try store.pool.write { db in
                try db.execute(sql: "INSERT INTO grdb_migrations(identifier) VALUES ('v99-from-the-future')")
            }
        }
        XCTAssertThrowsError(try KBDatabase(path: path)) { error in
            XCTAssertEqual(error as? StoreError, .newerSchema(path: path, unknownMigrations: ["v99-from-the-future"]))
            XCTAssertTrue("\(error)".contains("newer version of kb"))
        }
    }

    func testReadOnlyOpenOfAMissingFileFailsWithoutCreatingIt() throws {
        let path = try TestSupport.temporaryDirectory(self).appendingPathComponent("absent.sqlite").path
        XCTAssertThrowsError(try KBDatabase(path: path, mode: .readOnly)) { error in
            XCTAssertEqual(error as? StoreError, .missing(path: path))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }

    func testDocumentedSchemaMatchesTheMigratedDatabase() throws {
        let path = try TestSupport.temporaryDirectory(self).appendingPathComponent("kb.sqlite").path
        let store = try KBDatabase(path: path)
        let documented = try String(
            contentsOf: TestSupport.repositoryRoot.appendingPathComponent("schemas/database.sql"), encoding: .utf8)
        let tables = try store.pool.read { db in
            try String.fetchAll(db, sql: """
                SELECT name FROM sqlite_master WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%'
                AND name NOT LIKE 'grdb_%' AND name NOT LIKE 'chunks_fts_%' ORDER BY name
                """)
        }
        XCTAssertFalse(tables.isEmpty)
        for name in tables {
            XCTAssertTrue(documented.contains(name), "schemas/database.sql does not mention \(name)")
        }
        let columns = try store.pool.read { db in
            try ["documents", "chunks", "embeddings", "embedding_models", "settings"].flatMap { table in
                try db.columns(in: table).map(\.name)
            }
        }
        for column in columns {
            XCTAssertTrue(documented.contains(column), "schemas/database.sql does not mention column \(column)")
        }
    }
}

/// Documents for store tests.
enum Fixtures {
    static func document(uri: String, title: String = "Title", text: String, chunks: [String]? = nil) -> DocumentInput {
        var offset = 0
        let pieces = chunks ?? [text]
        let chunkInputs = pieces.map { piece -> ChunkInput in
            let length = piece.unicodeScalars.count
            defer { offset += length }
            return ChunkInput(text: piece, startOffset: offset, endOffset: offset + length, tokenCount: length / 4 + 1,
                              headingPath: ["Section"])
        }
        let hash = ContentHash.sha256Hex(text)
        return DocumentInput(uri: uri, sourcePath: "/src/\(uri)", url: nil, title: title, format: "text",
                             contentHash: hash, recordHash: ContentHash.sha256Hex(uri + title + text), metadataJSON: nil,
                             text: text, charCount: text.unicodeScalars.count, chunks: chunkInputs)
    }
}
