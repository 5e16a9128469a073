import Foundation
import GRDB
import KBTestSupport
import XCTest

/// Choosing the embedding model per knowledge base: `kb ingest --embedder` and `kb reembed --model`,
/// with multilingual-e5-small on a tiny Chinese/English corpus.
final class EmbedderChoiceTests: XCTestCase {
    static let e5 = "multilingual-e5-small"

    /// Three Chinese documents and one English one.
    func makeCorpus() throws -> (db: String, docs: URL) {
        let directory = try TestSupport.temporaryDirectory(self)
        try TestSupport.write("巴黎是法国的首都，也是法国人口最多的城市。", to: "docs/paris.txt", in: directory)
        try TestSupport.write("南瓜切块后加少许盐，蒸十五分钟即可食用。", to: "docs/pumpkin.txt", in: directory)
        try TestSupport.write("机器学习是人工智能的一个分支，让计算机从数据中学习。", to: "docs/ml.txt", in: directory)
        try TestSupport.write("Logs rotate daily and are compressed after a week.", to: "docs/logs.txt", in: directory)
        return (directory.appendingPathComponent("kb.sqlite").path, directory.appendingPathComponent("docs"))
    }

    /// (active model, [model name: vector count]) as stored in the base.
    func storedModels(_ db: String) throws -> (active: String?, vectors: [String: Int], chunks: Int) {
        let queue = try DatabaseQueue(path: db)
        return try queue.read { db in
            let active = try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'active_embedding_model'")
            var vectors: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT m.name, count(e.chunk_id) AS n FROM embedding_models m
                LEFT JOIN embeddings e ON e.model_id = m.id GROUP BY m.id
                """) {
                vectors[row["name"]] = row["n"]
            }
            return (active, vectors, try Int.fetchOne(db, sql: "SELECT count(*) FROM chunks") ?? 0)
        }
    }

    /// The file names of a vector search's results, best first.
    func vectorSearch(_ db: String, _ query: String) throws -> [String] {
        let search = try CommandRunner.run(["search", "--db", db, "--mode", "vector", "--top-k", "4", "--json", query])
        XCTAssertEqual(search.status, 0, search.stderr)
        let output = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(search.stdout.utf8)) as? [String: Any])
        let results = try XCTUnwrap(output["results"] as? [[String: Any]])
        return results.compactMap { ($0["uri"] as? String).map { URL(fileURLWithPath: $0).lastPathComponent } }
    }

    func testIngestWithEmbedderRecordsTheModelAndLaterIngestsKeepIt() throws {
        let (db, docs) = try makeCorpus()
        let ingest = try CommandRunner.run(["ingest", "--db", db, "--embedder", Self.e5, "--json", docs.path])
        XCTAssertEqual(ingest.status, 0, ingest.stderr)
        var stored = try storedModels(db)
        XCTAssertEqual(stored.active, Self.e5)
        XCTAssertEqual(stored.vectors, [Self.e5: stored.chunks])
        // An English query finds the Chinese document (cross-language), which MiniLM cannot do.
        XCTAssertEqual(try vectorSearch(db, "What is the capital of France?").first, "paris.txt")
        XCTAssertEqual(try vectorSearch(db, "如何做南瓜").first, "pumpkin.txt")

        // A later ingest without --embedder embeds with the base's model, not the default one.
        try TestSupport.write("深度学习使用多层神经网络。", to: "deep.txt", in: docs)
        XCTAssertEqual(try CommandRunner.run(["ingest", "--db", db, "-q", docs.path]).status, 0)
        stored = try storedModels(db)
        XCTAssertEqual(stored.active, Self.e5)
        XCTAssertEqual(stored.vectors, [Self.e5: stored.chunks])
        XCTAssertEqual(stored.chunks, 5)
    }

    func testReembedSwitchesAnExistingBase() throws {
        let (db, docs) = try makeCorpus()
        XCTAssertEqual(try CommandRunner.run(["ingest", "--db", db, "-q", docs.path]).status, 0)
        var stored = try storedModels(db)
        XCTAssertEqual(stored.active, "all-minilm-l6-v2")
        XCTAssertEqual(stored.vectors, ["all-minilm-l6-v2": stored.chunks])

        let reembed = try CommandRunner.run(["reembed", "--db", db, "--model", Self.e5, "--json"])
        XCTAssertEqual(reembed.status, 0, reembed.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(reembed.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(report["model"] as? String, Self.e5)
        XCTAssertEqual(report["previous_model"] as? String, "all-minilm-l6-v2")
        XCTAssertEqual(report["embedded"] as? Int, stored.chunks)
        stored = try storedModels(db)
        XCTAssertEqual(stored.active, Self.e5)
        XCTAssertEqual(stored.vectors[Self.e5], stored.chunks)
        XCTAssertEqual(stored.vectors["all-minilm-l6-v2"] ?? 0, 0, "the old model's vectors are deleted")
        XCTAssertEqual(try vectorSearch(db, "machine learning").first, "ml.txt")

        // An unknown name is refused with the known ones.
        let unknown = try CommandRunner.run(["reembed", "--db", db, "--model", "e6-huge"])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("unknown embedding model 'e6-huge'"), unknown.stderr)
        XCTAssertTrue(unknown.stderr.contains(Self.e5), unknown.stderr)
    }

    func testEvalEmbedsANewBaseWithTheChosenModelAndRefusesAnother() throws {
        let directory = try TestSupport.temporaryDirectory(self)
        try TestSupport.write("""
            {"_id": "d1", "title": "", "text": "巴黎是法国的首都。"}
            {"_id": "d2", "title": "", "text": "南瓜可以蒸着吃。"}
            """, to: "set/corpus.jsonl", in: directory)
        try TestSupport.write(#"{"_id": "q1", "text": "capital of France"}"#, to: "set/queries.jsonl", in: directory)
        try TestSupport.write("query-id\tcorpus-id\tscore\nq1\td1\t1\n", to: "set/qrels/test.tsv", in: directory)
        let db = directory.appendingPathComponent("eval.sqlite").path
        let set = directory.appendingPathComponent("set").path
        let eval = try CommandRunner.run(["eval", "--db", db, "--embedder", Self.e5, "--modes", "vector", "--json", set])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        XCTAssertEqual(try storedModels(db).active, Self.e5)
        let output = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
        let vector = try XCTUnwrap((output["modes"] as? [String: Any])?["vector"] as? [String: Any])
        XCTAssertEqual(vector["ndcg_at_10"] as? Double, 1, "the English query finds the Chinese document first")

        let other = try CommandRunner.run(["eval", "--db", db, "--embedder", "all-minilm-l6-v2", set])
        XCTAssertNotEqual(other.status, 0)
        XCTAssertTrue(other.stderr.contains("searches with \(Self.e5), not all-minilm-l6-v2"), other.stderr)
    }
}
