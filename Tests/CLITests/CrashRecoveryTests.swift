import Foundation
import GRDB
import KBTestSupport
import XCTest

/// `kill -9` at random moments of an ingest never leaves a corrupt or half-written database, and
/// re-running the same command completes the job with exactly the expected documents and chunks.
/// The runs use `--no-embed`: vectors are written in the same transactions as their chunks, and
/// the debug build's encoder would make a corpus big enough to kill mid-way take minutes.
final class CrashRecoveryTests: XCTestCase {
    /// A corpus of Markdown files and a JSON Lines file, big enough that ingest takes a few seconds.
    private func makeCorpus(in directory: URL) throws -> URL {
        let corpus = directory.appendingPathComponent("corpus")
        for i in 0..<300 {
            let body = "# Note \(i)\n\n" + TestSupport.prose(seed: UInt64(i), sentences: 20 + i % 30)
            try TestSupport.write(body, to: "notes/\(i % 10)/note-\(i).md", in: corpus)
        }
        var lines: [String] = []
        for i in 0..<3000 {
            let object: [String: Any] = ["id": "rec-\(i)", "title": "Record \(i)",
                                         "text": TestSupport.prose(seed: UInt64(10_000 + i), sentences: 3 + i % 12)]
            lines.append(String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
        }
        try TestSupport.write(lines.joined(separator: "\n") + "\n", to: "records.jsonl", in: corpus)
        return corpus
    }

    /// (uri, ordinal, start, end, token count) of every chunk: the full outcome of an ingest.
    private func snapshot(_ path: String) throws -> [String] {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { db in
            try String.fetchAll(db, sql: """
                SELECT d.uri || '#' || c.ordinal || ':' || c.start_offset || '-' || c.end_offset || '/' || c.token_count
                FROM chunks c JOIN documents d ON d.id = c.document_id ORDER BY 1
                """)
        }
    }

    /// Structural checks that must hold after any crash.
    private func assertConsistent(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        try queue.read { db in
            XCTAssertEqual(try String.fetchAll(db, sql: "PRAGMA integrity_check"), ["ok"], file: file, line: line)
            // Every document is complete: chunks numbered 0..<n without gaps; none orphaned.
            let broken = try Int.fetchOne(db, sql: """
                SELECT count(*) FROM documents d WHERE
                  (SELECT count(*) FROM chunks c WHERE c.document_id = d.id) = 0 OR
                  (SELECT max(ordinal) + 1 FROM chunks c WHERE c.document_id = d.id)
                    <> (SELECT count(*) FROM chunks c WHERE c.document_id = d.id)
                """)
            XCTAssertEqual(broken, 0, "documents with missing chunks", file: file, line: line)
            let orphans = try Int.fetchOne(db, sql: "SELECT count(*) FROM chunks WHERE document_id NOT IN (SELECT id FROM documents)")
            XCTAssertEqual(orphans, 0, file: file, line: line)
            // The contentless index holds exactly one row per chunk.
            let indexed = try Int.fetchOne(db, sql: "SELECT count(*) FROM chunks_fts")
            let chunks = try Int.fetchOne(db, sql: "SELECT count(*) FROM chunks")
            XCTAssertEqual(indexed, chunks, "FTS rows vs chunks", file: file, line: line)
        }
        try queue.write { db in try db.execute(sql: "INSERT INTO chunks_fts(chunks_fts) VALUES ('integrity-check')") }
    }

    func testKillNineAtRandomPointsThenRerunGivesExactlyTheCleanResult() throws {
        let directory = try TestSupport.temporaryDirectory(self)
        let corpus = try makeCorpus(in: directory)

        // Reference: one uninterrupted ingest.
        let cleanPath = directory.appendingPathComponent("clean.sqlite").path
        let cleanStarted = Date()
        let clean = try CommandRunner.run(["ingest", "--db", cleanPath, "--no-embed", "--quiet", "--batch-size", "64", corpus.path])
        let cleanSeconds = Date().timeIntervalSince(cleanStarted)
        XCTAssertEqual(clean.status, 0, clean.stderr)
        let expected = try snapshot(cleanPath)
        XCTAssertGreaterThan(expected.count, 3300)

        // Crash several times at random moments, resuming each time, then finish. Each run lives at
        // most a quarter of the clean ingest's time, so six of them cannot finish the corpus and
        // every one is killed mid-way, however fast the machine (a fixed range let one run finish
        // it, and the runs after it had nothing left to be killed in).
        var generator = SystemRandomNumberGenerator()
        let crashedPath = directory.appendingPathComponent("crashed.sqlite").path
        var kills = 0
        for attempt in 0..<6 {
            let running = try CommandRunner.start(["ingest", "--db", crashedPath, "--no-embed", "--quiet", "--batch-size", "64", corpus.path])
            let delay = Double.random(in: 0.05...max(0.1, cleanSeconds / 4), using: &generator)
            Thread.sleep(forTimeInterval: delay)
            let killed = running.process.isRunning
            if killed {
                kill(running.process.processIdentifier, SIGKILL)
                kills += 1
            }
            running.process.waitUntilExit()
            if FileManager.default.fileExists(atPath: crashedPath) {
                try assertConsistent(crashedPath)
            }
            print("attempt \(attempt): \(killed ? "killed" : "had finished") after \(String(format: "%.2f", delay)) s, "
                  + "\(FileManager.default.fileExists(atPath: crashedPath) ? try snapshot(crashedPath).count : 0) chunks stored")
        }
        XCTAssertGreaterThanOrEqual(kills, 3, "the corpus should take long enough to be killed mid-way")
        let finish = try CommandRunner.run(["ingest", "--db", crashedPath, "--no-embed", "--quiet", "--json", corpus.path])
        XCTAssertEqual(finish.status, 0, finish.stderr)
        try assertConsistent(crashedPath)
        XCTAssertEqual(try snapshot(crashedPath), expected)
    }

    func testSearchKeepsAnsweringWhileIngestWrites() throws {
        let directory = try TestSupport.temporaryDirectory(self)
        let corpus = try makeCorpus(in: directory)
        let path = directory.appendingPathComponent("kb.sqlite").path
        let seed = try CommandRunner.run(["ingest", "--db", path, "--no-embed", "--quiet", corpus.appendingPathComponent("notes/0").path])
        XCTAssertEqual(seed.status, 0, seed.stderr)

        let writer = try CommandRunner.start(["ingest", "--db", path, "--no-embed", "--quiet", "--batch-size", "32", corpus.path])
        var searches = 0
        while writer.process.isRunning {
            let result = try CommandRunner.run(["search", "--db", path, "--mode", "lexical", "--json", "replica failover"])
            XCTAssertEqual(result.status, 0, result.stderr)
            let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            XCTAssertFalse((json?["results"] as? [Any] ?? []).isEmpty)
            searches += 1
        }
        writer.process.waitUntilExit()
        XCTAssertEqual(writer.process.terminationStatus, 0)
        XCTAssertGreaterThan(searches, 2, "searches ran during the ingest")
    }
}
