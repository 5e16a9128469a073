import Foundation
import KBTestSupport
import XCTest

/// `kb ask`: a cited answer in the terminal, as a user runs it.
final class AskCommandTests: XCTestCase {
    func testAnswersWithItsSourcesAndSaysWhenNothingIsRelevant() throws {
        let directory = try TestSupport.temporaryDirectory(self)
        let records = [
            #"{"id": "rotate", "title": "Log rotation", "text": "Logrotate rotates the log files every night. Old logs are compressed with gzip and kept for two weeks."}"#,
            #"{"id": "backup", "title": "Database backups", "text": "The database backup runs at midnight. Backups are copied to the archive mirror."}"#,
        ]
        let corpus = try TestSupport.write(records.joined(separator: "\n"), to: "docs.jsonl", in: directory)
        let db = directory.appendingPathComponent("kb.sqlite").path
        let ingest = try CommandRunner.run(["ingest", "--db", db, corpus.path])
        XCTAssertEqual(ingest.status, 0, ingest.stderr)
        let model = try TestSupport.modelPath("smollm2-135m-instruct-q4_1.gguf")

        let text = try CommandRunner.run(["ask", "--db", db, "--model", model, "--max-tokens", "24", "--threads", "2",
                                          "How are old logs compressed?"])
        XCTAssertEqual(text.status, 0, text.stderr)
        let parts = text.stdout.components(separatedBy: "\n\nSources")
        XCTAssertEqual(parts.count, 2, "the answer, then its sources: \(text.stdout)")
        XCTAssertFalse(parts[0].trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "an answer was written")
        XCTAssertTrue(parts[1].contains("[1] Log rotation — rotate (characters 0-"), text.stdout)

        let json = try CommandRunner.run(["ask", "--db", db, "--model", model, "--max-tokens", "24", "--threads", "2", "--json",
                                          "When does the database backup run?"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        XCTAssertFalse((object["answer"] as? String ?? "").isEmpty)
        let sources = try XCTUnwrap(object["sources"] as? [[String: Any]])
        XCTAssertEqual(sources.first { $0["rank"] as? Int == 1 }?["title"] as? String, "Database backups")
        XCTAssertNotNil(object["grounded"] as? Bool)
        let sentences = try XCTUnwrap(object["sentences"] as? [[String: Any]])
        XCTAssertFalse(sentences.isEmpty, "the answer's sentences, each with its citations")
        XCTAssertNotNil(object["cited_answer"] as? String)
        XCTAssertTrue(["stop", "length"].contains(object["finish_reason"] as? String ?? ""))
        XCTAssertGreaterThan(((object["usage"] as? [String: Any])?["prompt_tokens"] as? Int) ?? 0, 0)

        let nothing = try CommandRunner.run(["ask", "--db", db, "--model", model, "--mode", "lexical", "xylophonist quasar"])
        XCTAssertEqual(nothing.status, 0, nothing.stderr)
        XCTAssertTrue(nothing.stdout.contains("(no sources: nothing in the knowledge base is relevant)"), nothing.stdout)

        let empty = try CommandRunner.run(["ask", "--db", db, "--model", model, "   "])
        XCTAssertNotEqual(empty.status, 0)
        XCTAssertTrue(empty.stderr.contains("question"), empty.stderr)
    }
}
