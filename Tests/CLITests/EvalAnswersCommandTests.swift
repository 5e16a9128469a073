import Foundation
import KBTestSupport
import XCTest

/// `kb eval answers` end to end on a small set: the summary's counts and the per-question records.
final class EvalAnswersCommandTests: XCTestCase {
    func testMeasuresAnswersBesideTheClosedBookModel() throws {
        let directory = try TestSupport.temporaryDirectory(self)
        let set = directory.appendingPathComponent("set")
        try FileManager.default.createDirectory(at: set, withIntermediateDirectories: true)
        let documents = [
            #"{"id": "debian:zstd", "title": "zstd", "text": "Package: zstd\nVersion: 1.5.4+dfsg2-5\nMaintainer: RPM packaging team\n\nFast lossless compression algorithm."}"#,
            #"{"id": "debian:lz4", "title": "lz4", "text": "Package: lz4\nVersion: 1.9.4-1\nMaintainer: Nobuhiro Iwamatsu\n\nFast LZ compression algorithm library."}"#,
        ]
        _ = try TestSupport.write(documents.joined(separator: "\n"), to: "docs.jsonl", in: set)
        let questions = [
            #"{"id": "q1", "question": "Which version of zstd does Debian ship?", "answers": ["1.5.4+dfsg2-5"], "evidence": ["debian:zstd"], "answerable": true, "split": "dev", "kind": "version", "lang": "en"}"#,
            #"{"id": "q2", "question": "Who maintains lz4 in Debian?", "answers": ["Nobuhiro Iwamatsu"], "evidence": ["debian:lz4"], "answerable": true, "split": "dev", "kind": "maintainer", "lang": "en"}"#,
            #"{"id": "q3", "question": "Which version of brotli compression does Debian ship?", "answers": ["1.0.9-2"], "evidence": ["debian:brotli"], "answerable": false, "split": "dev", "kind": "version", "lang": "en"}"#,
            #"{"id": "q4", "question": "Who maintains zstd?", "answers": ["RPM packaging team"], "evidence": ["debian:zstd"], "answerable": true, "split": "test", "kind": "maintainer", "lang": "en"}"#,
        ]
        _ = try TestSupport.write(questions.joined(separator: "\n"), to: "questions.jsonl", in: set)
        let model = try TestSupport.modelPath("smollm2-135m-instruct-q4_1.gguf")
        let records = directory.appendingPathComponent("records.jsonl").path
        let run = try CommandRunner.run(["eval", "answers", "--db", directory.appendingPathComponent("kb.sqlite").path,
                                         "--model", model, "--max-tokens", "16", "--threads", "2", "--json", "--out", records,
                                         set.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], run.stdout)
        XCTAssertEqual(summary["split"] as? String, "dev")
        let open = try XCTUnwrap(summary["open_book"] as? [String: Any])
        XCTAssertEqual(open["questions"] as? Int, 3, "the dev split only")
        XCTAssertEqual(open["scored_questions"] as? Int, 2)
        XCTAssertEqual(open["unanswerable_questions"] as? Int, 1)
        XCTAssertEqual(open["evidence_recall"] as? Double, 1, "both answerable questions found their document")
        for key in ["accuracy", "abstention", "false_abstention", "median_ttft_s", "median_total_s"] {
            let value = try XCTUnwrap(open[key] as? Double, key)
            XCTAssertTrue(value >= 0 && (key.hasSuffix("_s") || value <= 1), "\(key) = \(value)")
        }
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(open["median_answer_tokens"] as? Double), 1)
        let attribution = try XCTUnwrap(open["median_attribution_ms"] as? Double, "time from the last token to the finished attribution")
        XCTAssertTrue(attribution >= 0 && attribution <= (open["max_attribution_ms"] as? Double ?? -1))
        let closed = try XCTUnwrap(summary["closed_book"] as? [String: Any])
        XCTAssertEqual(closed["questions"] as? Int, 3)
        XCTAssertEqual(closed["evidence_recall"] as? Double, 0, "the closed-book model sees no sources")
        XCTAssertNotNil((summary["accuracy_by_kind"] as? [String: Any])?["maintainer"])

        // One record per question and run, with the answer and its sentences.
        let lines = try String(contentsOfFile: records, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 6)
        let first = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        XCTAssertEqual(first["run"] as? String, "open_book")
        XCTAssertNotNil(first["sentences"] as? [Any])
        XCTAssertEqual(((first["observation"] as? [String: Any])?["question"] as? [String: Any])?["id"] as? String, "q1")

        // Plain `kb eval DIR` is still the retrieval evaluation (and says what it needs).
        let retrieval = try CommandRunner.run(["eval", set.path])
        XCTAssertNotEqual(retrieval.status, 0)
        XCTAssertTrue(retrieval.stderr.contains("corpus.jsonl"), retrieval.stderr)
    }
}
