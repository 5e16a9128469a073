import Foundation
import KBStore
import KBTestSupport
import XCTest
@testable import KBIngest
@testable import KBSearch

final class LexicalSearchTests: XCTestCase {
    private var store: KBDatabase!

    override func setUpWithError() throws {
        let directory = try TestSupport.temporaryDirectory(self)
        let records: [(String, String, String)] = [
            ("backup", "Nightly backups", "The backup job copies the database to the archive every night. Restores take minutes."),
            ("restore", "Restoring", "To restore, stop the service and copy the archive back. Backups older than a week are pruned."),
            ("network", "Network tuning", "Raise the socket buffers for high throughput links."),
            ("zh-search", "全文检索", "全文检索引擎把文档切成小块并建立索引。用户可以用中文查询。"),
            ("zh-db", "数据库", "数据库的备份每天晚上运行。检查日志文件。"),
            ("mixed", "Kubernetes 部署", "使用 kubectl apply 部署服务，然后检查 Pod 状态。"),
            ("accents", "Café menu", "Our café serves crème brûlée."),
        ]
        let lines = records.map { id, title, text in
            String(decoding: try! JSONSerialization.data(withJSONObject: ["id": id, "title": title, "text": text]), as: UTF8.self)
        }
        let file = try TestSupport.write(lines.joined(separator: "\n"), to: "docs.jsonl", in: directory)
        store = try KBDatabase(path: directory.appendingPathComponent("kb.sqlite").path)
        let chunker = Chunker(options: ChunkingOptions(), counter: try TestSupport.loadTokenizer())
        let report = try IngestPipeline(store: store, chunker: chunker, options: IngestOptions()).run([file.path])
        XCTAssertEqual(report.added, records.count)
    }

    private func uris(_ query: String, topK: Int = 10) throws -> [String] {
        try LexicalSearch(store: store).search(query, topK: topK).map(\.uri)
    }

    func testBM25RanksTheMostRelevantChunkFirst() throws {
        XCTAssertEqual(try uris("backup archive").first, "backup")
        XCTAssertEqual(try uris("socket buffers"), ["network"])
        // Porter stemming: "restoring" finds "restore"/"Restores".
        XCTAssertEqual(Set(try uris("restoring")), ["backup", "restore"])
    }

    func testChineseQueriesOfOneTwoAndManyCharactersMatch() throws {
        XCTAssertEqual(Set(try uris("检")), ["zh-search", "zh-db", "mixed"])
        XCTAssertEqual(Set(try uris("检索")), ["zh-search"])
        XCTAssertEqual(Set(try uris("备份")), ["zh-db"])
        XCTAssertEqual(try uris("全文检索引擎").first, "zh-search")
        XCTAssertEqual(try uris("索检"), [], "characters out of order are not the phrase")
    }

    func testMixedChineseAndEnglishQueries() throws {
        XCTAssertEqual(try uris("kubectl 部署").first, "mixed")
        XCTAssertEqual(try uris("Kubernetes").first, "mixed")
    }

    func testDiacriticsAndCaseAreIgnored() throws {
        XCTAssertEqual(try uris("CAFE creme brulee"), ["accents"])
    }

    func testQueriesWithSearchSyntaxNeverFail() throws {
        let hostile = ["\"AND (", "NEAR/", "NEAR(a b)", "a OR", "*", "title:backup", "^backup", "(((", "\"", "'", "-", "+",
                       "backup AND", "NOT", "a:b:c", "{a b}", "[x]", "backup*", "; DROP TABLE documents; --", "\u{0}",
                       "", "   ", "🙂", "\\", "%_"]
        for query in hostile {
            XCTAssertNoThrow(try uris(query), query)
        }
        XCTAssertEqual(try uris("\"AND ( backup"), ["backup", "restore"], "operators are plain words")
        XCTAssertEqual(try uris(""), [])
        XCTAssertEqual(try store.statistics().documents, 7)
    }

    func testStopwordsAreDroppedOnlyWhenOtherWordsRemain() throws {
        XCTAssertEqual(QueryTerms.parse("how to restore the archive"), [.word("restore"), .word("archive")])
        XCTAssertEqual(QueryTerms.parse("the"), [.word("the")])
    }

    func testMatchExpressionQuotesEveryTermAndPhrasesIdeographs() {
        let terms = QueryTerms.parse("NEAR/3 \"x\" 检索 OR")
        XCTAssertEqual(QueryTerms.matchExpression(terms), #""near" OR "3" OR "x" OR "检 索""#)
    }

    func testResultsCarryOffsetsIntoTheDocumentAndHighlightedSnippets() throws {
        let hits = try LexicalSearch(store: store).search("archive", topK: 5)
        XCTAssertEqual(hits.count, 2)
        for hit in hits {
            XCTAssertEqual(hit.endOffset - hit.startOffset, hit.text.unicodeScalars.count)
            XCTAssertGreaterThan(hit.score, 0)
            let scalars = Array(hit.snippet.text.unicodeScalars)
            XCTAssertFalse(hit.snippet.highlights.isEmpty)
            for span in hit.snippet.highlights {
                XCTAssertEqual(String(String.UnicodeScalarView(scalars[span.start..<span.end])).lowercased(), "archive")
            }
        }
        XCTAssertGreaterThanOrEqual(hits[0].score, hits[1].score)
    }

    func testTopKLimitsResults() throws {
        XCTAssertEqual(try uris("the", topK: 1).count, 1)
    }
}

final class CommonTermPruningTests: XCTestCase {
    func testExpressionRequiresARareTermAndKeepsAllForScoring() {
        let terms = QueryTerms.parse("parsing xml files")
        XCTAssertEqual(QueryTerms.matchExpression(terms, common: ["files"]),
                       #"("parsing" OR "xml") AND ("parsing" OR "xml" OR "files")"#)
        XCTAssertEqual(QueryTerms.matchExpression(terms, common: ["parsing", "xml", "files"]),
                       #""parsing" OR "xml" OR "files""#, "all common: plain OR")
        XCTAssertEqual(QueryTerms.matchExpression(terms), #""parsing" OR "xml" OR "files""#)
    }

    func testStemsComeFromSQLitesOwnPorterTokenizer() {
        XCTAssertEqual(TermStatistics.stems(["libraries", "running", "café", "configurations"]),
                       ["librari", "run", "cafe", "configur"])
    }

    func testCommonWordsAreFoundByDocumentFrequencyAndResultsStillMatchRareTerms() throws {
        let directory = try TestSupport.temporaryDirectory(self)
        // 800 chunks all mention "server"; a few mention "failover".
        var lines: [String] = []
        for i in 0..<800 {
            let extra = i % 200 == 0 ? " failover drill" : ""
            lines.append(#"{"id": "d\#(i)", "title": "Note \#(i)", "text": "The server restarted\#(extra)."}"#)
        }
        let file = try TestSupport.write(lines.joined(separator: "\n"), to: "d.jsonl", in: directory)
        let store = try KBDatabase(path: directory.appendingPathComponent("kb.sqlite").path)
        let chunker = Chunker(options: ChunkingOptions(), counter: try TestSupport.loadTokenizer())
        _ = try IngestPipeline(store: store, chunker: chunker, options: IngestOptions()).run([file.path])
        let common = try store.read { reader in
            try TermStatistics.commonWords(reader, terms: QueryTerms.parse("server failover"))
        }
        XCTAssertEqual(common, ["server"])
        let hits = try LexicalSearch(store: store).search("server failover", topK: 10)
        XCTAssertEqual(Set(hits.map(\.uri)), ["d0", "d200", "d400", "d600"])
        XCTAssertEqual(try LexicalSearch(store: store).search("server", topK: 10).count, 10, "a lone common word still searches")
    }

    func testCachedFrequenciesAreReusedAndRefreshedWhenTheBaseGrows() throws {
        let directory = try TestSupport.temporaryDirectory(self)
        func corpus(_ name: String, _ count: Int, _ text: (Int) -> String) throws -> String {
            let lines = (0..<count).map { i in #"{"id": "\#(name)\#(i)", "title": "Note", "text": "\#(text(i))"}"# }
            return try TestSupport.write(lines.joined(separator: "\n"), to: "\(name).jsonl", in: directory).path
        }
        let store = try KBDatabase(path: directory.appendingPathComponent("kb.sqlite").path)
        let chunker = Chunker(options: ChunkingOptions(), counter: try TestSupport.loadTokenizer())
        let pipeline = IngestPipeline(store: store, chunker: chunker, options: IngestOptions())
        _ = try pipeline.run([try corpus("a", 800) { i in i % 200 == 0 ? "The server restarted after a failover." : "The server restarted." }])
        let cache = TermFrequencyCache()
        let terms = QueryTerms.parse("server failover")
        func common() throws -> Set<String> {
            try store.read { reader in try TermStatistics.commonWords(reader, terms: terms, cache: cache) }
        }
        XCTAssertEqual(try common(), ["server"])
        XCTAssertEqual(cache.misses, 2, "both frequencies read from the index the first time")
        XCTAssertEqual(try common(), ["server"])
        XCTAssertEqual(cache.hits, 2, "and from the cache the second time")
        // 800 more chunks, all about failover: the base doubled, so the cached frequency is stale.
        _ = try pipeline.run([try corpus("b", 800) { _ in "A failover drill." }])
        XCTAssertEqual(try common(), ["server", "failover"], "a word that became common is seen as common")
        XCTAssertEqual(cache.misses, 4)
    }

    func testStemCacheMatchesTheStemmer() {
        // Room for the first call's four words, not for a fifth (each costs its text, its stem and the overhead).
        let cache = TermFrequencyCache(byteCapacity: 4 * (TermFrequencyCache.entryOverhead + 24))
        var calls = 0
        let stem = { (words: [String]) -> [String?] in calls += 1; return TermStatistics.stems(words) }
        let words = ["libraries", "running", "café", "configurations", "running"]
        XCTAssertEqual(cache.stems(words, stem: stem), TermStatistics.stems(words))
        XCTAssertEqual(calls, 1, "distinct unknown words are stemmed in one call")
        XCTAssertEqual(cache.stems(["running"], stem: stem), ["run"])
        XCTAssertEqual(calls, 1, "a known word is not stemmed again")
        XCTAssertEqual(cache.stems(["servers"], stem: stem), ["server"])
        XCTAssertEqual(calls, 2)
        XCTAssertEqual(cache.stems(["running"], stem: stem), ["run"], "over capacity the map was cleared: refilled, never wrong")
        XCTAssertEqual(calls, 3)
    }

    /// A "word" can be thousands of bytes (one letter with a long run of combining marks counts as
    /// one character): the cache holds bytes up to its budget, never entries of any size.
    func testTermCacheMemoryIsBoundedInBytesWhateverTheWords() throws {
        let budget = 64 << 10
        let cache = TermFrequencyCache(byteCapacity: budget)
        let marks = String(repeating: "\u{0301}", count: 2000)   // 4,000 bytes of combining acute accents
        for i in 0..<200 {
            let word = "a\(i)" + marks
            _ = cache.stems([word]) { words in words.map { $0 } }
            _ = cache.documentFrequency(of: word, in: "kb.sqlite", chunkCount: 10) { 1 }
            XCTAssertLessThanOrEqual(cache.bytesHeld, 2 * budget, "after \(i + 1) words")
        }
        XCTAssertGreaterThan(cache.bytesHeld, 0)
        let huge = String(repeating: "x", count: budget * 2)
        _ = cache.stems([huge]) { $0 }
        XCTAssertLessThanOrEqual(cache.bytesHeld, 2 * budget, "a word larger than the budget is not kept")
    }

    func testQueriesKeepAtMostMaxTermsDistinctTerms() {
        let words = (0..<20_000).map { "w\($0)" }
        let text = (words + words).joined(separator: " ")
        let terms = QueryTerms.parse(text)
        XCTAssertEqual(terms.count, QueryTerms.maxTerms)
        XCTAssertEqual(terms.first, .word("w0"))
        XCTAssertEqual(terms.last, .word("w\(QueryTerms.maxTerms - 1)"))
        XCTAssertEqual(QueryTerms.parse("logs Logs LOGS rotate logs"), [.word("logs"), .word("rotate")])
    }
}
