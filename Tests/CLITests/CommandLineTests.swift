import Foundation
import GRDB
import KBTestSupport
import XCTest

/// The `kb` binary as users and scripts run it.
final class CommandLineTests: XCTestCase {
    func testHelpDescribesEveryCommand() throws {
        let help = try CommandRunner.run(["--help"])
        XCTAssertEqual(help.status, 0)
        for command in ["ingest", "search", "stats"] { XCTAssertTrue(help.stdout.contains(command), help.stdout) }
        let ingestHelp = try CommandRunner.run(["ingest", "--help"])
        for option in ["--db", "--include", "--exclude", "--prune", "--strict-utf8", "--max-file-size", "--json"] {
            XCTAssertTrue(ingestHelp.stdout.contains(option), option)
        }
    }

    func testIngestAndSearchJSONShapes() throws {
        let directory = try TestSupport.temporaryDirectory(self)
        try TestSupport.write("# Rotation\n\nLogs rotate daily and are compressed after a week.", to: "docs/logs.md", in: directory)
        try TestSupport.write(#"{"id": "kb-1", "title": "Disk", "text": "Disks fill up when logs are not rotated.", "url": "https://wiki/disk"}"#,
                              to: "docs/more.jsonl", in: directory)
        let db = directory.appendingPathComponent("kb.sqlite").path
        let ingest = try CommandRunner.run(["ingest", "--db", db, "--json", directory.appendingPathComponent("docs").path])
        XCTAssertEqual(ingest.status, 0, ingest.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(ingest.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(report["added"] as? Int, 2)
        for key in ["updated", "unchanged", "skipped", "failed", "pruned", "chunks", "seconds", "failures", "skips"] {
            XCTAssertNotNil(report[key], key)
        }

        let search = try CommandRunner.run(["search", "--db", db, "--mode", "lexical", "--top-k", "5", "--json", "rotate logs"])
        XCTAssertEqual(search.status, 0, search.stderr)
        let output = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(search.stdout.utf8)) as? [String: Any])
        let results = try XCTUnwrap(output["results"] as? [[String: Any]])
        XCTAssertEqual(results.count, 2)
        let uris = Set(results.compactMap { $0["uri"] as? String })
        XCTAssertTrue(uris.contains("kb-1"), "JSON Lines documents are identified by their record id")
        XCTAssertEqual(results.compactMap { $0["url"] as? String }, ["https://wiki/disk"], "and report their url; files have none")
        XCTAssertTrue(uris.contains { $0.hasSuffix("/docs/logs.md") }, "files report their path")
        for result in results {
            for key in ["uri", "title", "score", "text", "snippet", "start_offset", "end_offset", "heading_path", "document_id"] {
                XCTAssertNotNil(result[key], key)
            }
        }
    }

    func testHumanSearchOutputHighlightsMatches() throws {
        let directory = try TestSupport.temporaryDirectory(self)
        try TestSupport.write("The replica follows the primary.", to: "a.txt", in: directory)
        let db = directory.appendingPathComponent("kb.sqlite").path
        XCTAssertEqual(try CommandRunner.run(["ingest", "--db", db, "-q", directory.appendingPathComponent("a.txt").path]).status, 0)
        let search = try CommandRunner.run(["search", "--db", db, "replica"])
        XCTAssertTrue(search.stdout.contains("«replica»"), search.stdout)
        let none = try CommandRunner.run(["search", "--db", db, "zebra"])
        XCTAssertTrue(none.stdout.contains("No results"), none.stdout)
    }

    func testADatabaseThatIsNotKbIsRefusedWithItsName() throws {
        let directory = try TestSupport.temporaryDirectory(self)
        let notes = try TestSupport.write("just text", to: "notes.txt", in: directory)
        let result = try CommandRunner.run(["ingest", "--db", notes.path, notes.path])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains(notes.path) && result.stderr.contains("not a kb database"), result.stderr)
        XCTAssertEqual(try String(contentsOf: notes, encoding: .utf8), "just text")

        let foreign = directory.appendingPathComponent("app.db").path
        let queue = try DatabaseQueue(path: foreign)
        try queue.write { db in try db.execute(sql: "CREATE TABLE users(id)") }
        try queue.close()
        let refused = try CommandRunner.run(["search", "--db", foreign, "x"])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("not a kb database") && refused.stderr.contains("users"), refused.stderr)
    }

    func testADatabaseFromANewerKbIsRefused() throws {
        let directory = try TestSupport.temporaryDirectory(self)
        let db = directory.appendingPathComponent("kb.sqlite").path
        try TestSupport.write("text", to: "a.txt", in: directory)
        XCTAssertEqual(try CommandRunner.run(["ingest", "--db", db, "-q", directory.appendingPathComponent("a.txt").path]).status, 0)
        let queue = try DatabaseQueue(path: db)
        try queue.write { db in try db.execute(sql: "INSERT INTO grdb_migrations VALUES ('v2-from-the-future')") }
        try queue.close()
        let result = try CommandRunner.run(["stats", "--db", db])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("newer version of kb") && result.stderr.contains(db), result.stderr)
    }

    func testUnreadableFilesAreReportedAndTheRestIngested() throws {
        let directory = try TestSupport.temporaryDirectory(self)
        chmod(directory.path, 0o777)
        let docs = directory.appendingPathComponent("docs")
        try TestSupport.write("readable text", to: "open.txt", in: docs)
        let secret = try TestSupport.write("secret text", to: "secret.txt", in: docs)
        chmod(docs.path, 0o755)
        chmod(secret.path, 0o000)
        // root reads any file: run kb as "nobody" so the permission applies.
        let prefix = getuid() == 0 ? ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : []
        let db = directory.appendingPathComponent("kb.sqlite").path
        let result = try CommandRunner.run(["ingest", "--db", db, "--json", docs.path], prefix: prefix)
        XCTAssertEqual(result.status, 3, "exit status 3: finished, with failures. stderr: \(result.stderr)")
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(report["added"] as? Int, 1)
        let failures = try XCTUnwrap(report["failures"] as? [[String: Any]])
        XCTAssertEqual(failures.count, 1)
        XCTAssertEqual(failures.first?["source"] as? String, secret.path)
        XCTAssertEqual(failures.first?["reason"] as? String, "cannot read: permission denied")
    }

    func testBadOptionValuesAreExplained() throws {
        let tooBig = try CommandRunner.run(["ingest", "--chunk-tokens", "900", "x"])
        XCTAssertNotEqual(tooBig.status, 0)
        XCTAssertTrue(tooBig.stderr.contains("chunk size must be between"), tooBig.stderr)
        let size = try CommandRunner.run(["ingest", "--max-file-size", "lots", "x"])
        XCTAssertTrue(size.stderr.contains("--max-file-size"), size.stderr)
        let topK = try CommandRunner.run(["search", "--top-k", "0", "x"])
        XCTAssertTrue(topK.stderr.contains("--top-k must be between"), topK.stderr)
    }
}
