import Foundation
import GRDB
@testable import KBStore
import KBTestSupport
import XCTest
@testable import KBIngest

final class IngestPipelineTests: XCTestCase {
    private var directory: URL!
    private var databasePath: String!

    override func setUpWithError() throws {
        directory = try TestSupport.temporaryDirectory(self)
        databasePath = directory.appendingPathComponent("kb.sqlite").path
    }

    private func ingest(_ inputs: [URL], configure: (inout IngestOptions) -> Void = { _ in }) throws -> IngestReport {
        var options = IngestOptions()
        options.batchSize = 4
        configure(&options)
        let store = try KBDatabase(path: databasePath)
        let chunker = Chunker(options: ChunkingOptions(), counter: try TestSupport.loadTokenizer())
        return try IngestPipeline(store: store, chunker: chunker, options: options).run(inputs.map(\.path))
    }

    private func storedURIs() throws -> [String] {
        try KBDatabase(path: databasePath).pool.read { db in
            try String.fetchAll(db, sql: "SELECT uri FROM documents ORDER BY uri")
        }
    }

    private func sources(_ issues: [SourceIssue]) -> [String] {
        issues.map { ($0.source as NSString).lastPathComponent }.sorted()
    }

    func testReingestingIsIdempotentAndChangesReplaceChunks() throws {
        let docs = directory.appendingPathComponent("docs")
        let a = try TestSupport.write("# A\n\n" + TestSupport.prose(seed: 1, sentences: 80), to: "a.md", in: docs)
        try TestSupport.write(TestSupport.prose(seed: 2, sentences: 5), to: "b.txt", in: docs)
        let first = try ingest([docs])
        XCTAssertEqual([first.added, first.updated, first.unchanged, first.failed], [2, 0, 0, 0])
        let counts = try KBDatabase(path: databasePath).statistics()

        let second = try ingest([docs])
        XCTAssertEqual([second.added, second.updated, second.unchanged, second.chunks], [0, 0, 2, 0])
        XCTAssertEqual(try KBDatabase(path: databasePath).statistics(), counts)

        try ("# A\n\nA much shorter text now.").write(to: a, atomically: true, encoding: .utf8)
        let third = try ingest([docs])
        XCTAssertEqual([third.added, third.updated, third.unchanged], [0, 1, 1])
        let store = try KBDatabase(path: databasePath)
        let chunkTexts = try store.pool.read { db in
            try String.fetchAll(db, sql: """
                SELECT c.text FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.uri LIKE '%a.md' ORDER BY ordinal
                """)
        }
        XCTAssertEqual(chunkTexts, ["# A\n\nA much shorter text now."])
    }

    func testChangingChunkSettingsRechunksEveryDocument() throws {
        try TestSupport.write(TestSupport.prose(seed: 3, sentences: 40), to: "a.txt", in: directory)
        _ = try ingest([directory.appendingPathComponent("a.txt")])
        var options = IngestOptions()
        options.batchSize = 4
        let store = try KBDatabase(path: databasePath)
        let smaller = Chunker(options: ChunkingOptions(maxTokens: 64, overlapTokens: 0), counter: try TestSupport.loadTokenizer())
        let report = try IngestPipeline(store: store, chunker: smaller, options: options)
            .run([directory.appendingPathComponent("a.txt").path])
        XCTAssertEqual(report.updated, 1)
        XCTAssertGreaterThan(try store.statistics().chunks, 4)
    }

    func testBadInputsAreReportedByNameAndTheRestIsIngested() throws {
        let docs = directory.appendingPathComponent("docs")
        try TestSupport.write("Good document about backups.", to: "good.txt", in: docs)
        try TestSupport.write(Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00]), to: "image.txt", in: docs)
        try TestSupport.write("", to: "empty.md", in: docs)
        try TestSupport.write("   \n\n  ", to: "blank.txt", in: docs)
        try TestSupport.write(Data(Array("caf".utf8) + [0xE9] + Array(" au lait".utf8)), to: "latin1.txt", in: docs)
        let report = try ingest([docs])
        XCTAssertEqual(report.added, 2, "\(report)")
        XCTAssertEqual(sources(report.skips), ["blank.txt", "empty.md", "image.txt"])
        XCTAssertTrue(report.skips.contains { $0.source.hasSuffix("image.txt") && $0.reason.contains("binary") })
        XCTAssertTrue(report.skips.contains { $0.source.hasSuffix("empty.md") && $0.reason == "empty file" })
        XCTAssertEqual(report.warnings.count, 1)
        XCTAssertTrue(report.warnings[0].source.hasSuffix("latin1.txt"))
        XCTAssertTrue(report.warnings[0].reason.contains("invalid UTF-8"))
    }

    func testStrictUTF8RejectsInvalidFilesAsFailures() throws {
        try TestSupport.write(Data([0x61, 0xFF, 0x62]), to: "bad.txt", in: directory)
        let report = try ingest([directory.appendingPathComponent("bad.txt")]) { $0.strictUTF8 = true }
        XCTAssertEqual(report.failed, 1)
        XCTAssertTrue(report.failures[0].reason.contains("invalid UTF-8"), report.failures[0].reason)
    }

    func testA200MegabyteFileIsSkippedWithItsSizeAndTheLimit() throws {
        let big = directory.appendingPathComponent("big.txt")
        FileManager.default.createFile(atPath: big.path, contents: nil)
        let handle = try FileHandle(forWritingTo: big)
        let block = Data(String(repeating: "lorem ipsum dolor sit amet ", count: 40_000).utf8)   // ~1 MiB
        var written = 0
        while written < 200 << 20 { handle.write(block); written += block.count }
        try handle.close()
        try TestSupport.write("small", to: "small.txt", in: directory)
        let report = try ingest([big, directory.appendingPathComponent("small.txt")])
        XCTAssertEqual(report.added, 1)
        XCTAssertEqual(report.skips.count, 1)
        XCTAssertEqual(report.skips[0].source, big.path)
        XCTAssertTrue(report.skips[0].reason.contains("200.") && report.skips[0].reason.contains("64.0 MiB limit"),
                      report.skips[0].reason)
    }

    func testTheSizeLimitCanBeRaised() throws {
        let text = TestSupport.prose(seed: 9, sentences: 400)    // ~30 KB
        try TestSupport.write(text, to: "doc.txt", in: directory)
        let file = directory.appendingPathComponent("doc.txt")
        XCTAssertEqual(try ingest([file]) { $0.maxDocumentBytes = 10_000 }.skipped, 1)
        XCTAssertEqual(try ingest([file]) { $0.maxDocumentBytes = 100_000 }.added, 1)
    }

    func testMalformedJSONLinesAreReportedWithFileAndLineAndTheRestIsIngested() throws {
        let lines = [
            #"{"id": "1", "title": "One", "text": "first"}"#,
            #"{"id": "2", "title": "Two", "text": "second"#,
            "",
            #"{"id": "3", "title": "Three"}"#,
            #"{"id": "4", "title": "Four", "text": "fourth"}"#,
            #"{"id": "1", "title": "Again", "text": "duplicate id"}"#,
        ]
        let file = try TestSupport.write(lines.joined(separator: "\n") + "\n", to: "docs.jsonl", in: directory)
        let report = try ingest([file])
        XCTAssertEqual(report.added, 2)
        XCTAssertEqual(report.failures.map(\.source), ["\(file.path):2", "\(file.path):4"])
        XCTAssertTrue(report.failures[0].reason.contains("invalid JSON"))
        XCTAssertTrue(report.failures[1].reason.contains("missing required field \"text\""))
        XCTAssertEqual(report.skips.map(\.source), ["\(file.path):6"])
        XCTAssertTrue(report.skips[0].reason.contains("duplicate id \"1\""))
        XCTAssertEqual(try storedURIs(), ["1", "4"])
    }

    func testTheSameContentUnderTwoPathsIsStoredOnce() throws {
        let text = TestSupport.prose(seed: 4, sentences: 10)
        let docs = directory.appendingPathComponent("docs")
        try TestSupport.write(text, to: "a/notes.txt", in: docs)
        try TestSupport.write(text, to: "b/copy-of-notes.txt", in: docs)
        let report = try ingest([docs])
        XCTAssertEqual(report.added, 1)
        XCTAssertEqual(report.skips.count, 1)
        XCTAssertTrue(report.skips[0].reason.hasPrefix("same content as "), report.skips[0].reason)
        XCTAssertTrue(report.skips[0].reason.contains("notes.txt"))
    }

    func testPruneRemovesDocumentsWhoseSourceDisappeared() throws {
        let docs = directory.appendingPathComponent("docs")
        let gone = try TestSupport.write("will be deleted", to: "gone.txt", in: docs)
        try TestSupport.write("stays", to: "stays.txt", in: docs)
        let records = try TestSupport.write(#"{"id": "r1", "text": "one"}"# + "\n" + #"{"id": "r2", "text": "two"}"#,
                                            to: "records.jsonl", in: directory)
        _ = try ingest([docs, records])
        XCTAssertEqual(try storedURIs().count, 4)
        try FileManager.default.removeItem(at: gone)
        try (#"{"id": "r1", "text": "one"}"#).write(to: records, atomically: true, encoding: .utf8)

        let withoutPrune = try ingest([docs, records])
        XCTAssertEqual(withoutPrune.pruned, 0)
        XCTAssertEqual(try storedURIs().count, 4)

        let pruning = try ingest([docs, records]) { $0.prune = true }
        XCTAssertEqual(pruning.pruned, 2)
        XCTAssertEqual(try storedURIs().filter { !$0.hasPrefix("/") }, ["r1"])
        XCTAssertEqual(try storedURIs().filter { $0.hasPrefix("/") }.map { ($0 as NSString).lastPathComponent }, ["stays.txt"])
    }

    func testPruneKeepsRecordsOfAJSONLinesFileWithAMalformedLine() throws {
        let records = try TestSupport.write(#"{"id": "r1", "text": "one"}"# + "\n" + #"{"id": "r2", "text": "two"}"#,
                                            to: "records.jsonl", in: directory)
        _ = try ingest([records])
        try (#"{"id": "r1", "text": "one"}"# + "\n" + #"{"id": "r2", "text": "tw"#).write(to: records, atomically: true, encoding: .utf8)
        let report = try ingest([records]) { $0.prune = true }
        XCTAssertEqual(report.failed, 1)
        XCTAssertEqual(report.pruned, 0, "a record that failed to parse may still exist: keep it")
        XCTAssertEqual(try storedURIs(), ["r1", "r2"])
    }

    func testIngestOfANonKnowledgeBaseFileFailsWithoutTouchingIt() throws {
        let other = directory.appendingPathComponent("other.db")
        let queue = try DatabaseQueue(path: other.path)
        try queue.write { db in try db.execute(sql: "CREATE TABLE t(x)") }
        try queue.close()
        XCTAssertThrowsError(try KBDatabase(path: other.path)) { error in
            XCTAssertTrue("\(error)".contains("not a kb database"), "\(error)")
        }
    }
}
