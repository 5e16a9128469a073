import KBTestSupport
import XCTest
@testable import KBIngest
@testable import KBStore

final class ChunkerTests: XCTestCase {
    private func chunker(max: Int = 64, overlap: Int = 8) throws -> Chunker {
        Chunker(options: ChunkingOptions(maxTokens: max, overlapTokens: overlap), counter: try TestSupport.loadTokenizer())
    }

    /// Every chunk is exactly its span of the document, within the token limit, in order.
    private func assertWellFormed(_ chunks: [ChunkInput], of text: String, max: Int, file: StaticString = #filePath,
                                  line: UInt = #line) throws {
        let scalars = Array(text.unicodeScalars)
        let tokenizer = try TestSupport.loadTokenizer()
        XCTAssertFalse(chunks.isEmpty, file: file, line: line)
        var previousStart = -1
        for chunk in chunks {
            XCTAssertEqual(chunk.text, String(String.UnicodeScalarView(scalars[chunk.startOffset..<chunk.endOffset])),
                           file: file, line: line)
            XCTAssertLessThanOrEqual(chunk.tokenCount, max, file: file, line: line)
            XCTAssertEqual(chunk.tokenCount, tokenizer.countTokens(chunk.text), file: file, line: line)
            XCTAssertGreaterThan(chunk.startOffset, previousStart, file: file, line: line)
            previousStart = chunk.startOffset
        }
    }

    func testChunksCoverTheTextWithinTheLimitAndOverlapBySentences() throws {
        let text = TestSupport.prose(seed: 1, sentences: 60)
        let tokenizer = try TestSupport.loadTokenizer()
        let chunks = try chunker(max: 64, overlap: 24).chunk(ParsedDocument(title: "t", text: text, format: .text))
        try assertWellFormed(chunks, of: text, max: 64)
        XCTAssertGreaterThan(chunks.count, 5)
        // Overlap is whole sentences within the budget: shared text is at most 24 tokens and ends a sentence.
        let scalars = Array(text.unicodeScalars)
        var overlapping = 0
        for (a, b) in zip(chunks, chunks.dropFirst()) where b.startOffset < a.endOffset {
            overlapping += 1
            let shared = String(String.UnicodeScalarView(scalars[b.startOffset..<a.endOffset]))
            XCTAssertLessThanOrEqual(tokenizer.countTokens(shared), 24, shared)
            XCTAssertTrue(shared.hasSuffix("."), shared)
        }
        XCTAssertGreaterThan(overlapping, chunks.count / 3, "most neighbouring chunks share a sentence")
        let covered = chunks.reduce(into: IndexSet()) { $0.insert(integersIn: $1.startOffset..<$1.endOffset) }
        let words = text.unicodeScalars.enumerated().filter { !$0.element.properties.isWhitespace }.map(\.offset)
        XCTAssertTrue(words.allSatisfy(covered.contains), "every non-space character is in some chunk")
    }

    func testNoOverlapWhenDisabled() throws {
        let text = TestSupport.prose(seed: 2, sentences: 40)
        let chunks = try chunker(overlap: 0).chunk(ParsedDocument(title: "t", text: text, format: .text))
        for (a, b) in zip(chunks, chunks.dropFirst()) { XCTAssertGreaterThanOrEqual(b.startOffset, a.endOffset) }
    }

    func testSectionsCarryHeadingPathsAndChunksNeverSpanTwoSections() throws {
        let text = "# Guide\n\nIntro text.\n\n## Install\n\nRun the installer.\n\n### Linux\n\nUse apt.\n\n## Usage\n\nCall it."
        let doc = MarkdownReader.parse(text, fileStem: "g")
        let chunks = try chunker().chunk(doc)
        try assertWellFormed(chunks, of: text, max: 64)
        XCTAssertEqual(chunks.map(\.headingPath), [["Guide"], ["Guide", "Install"], ["Guide", "Install", "Linux"], ["Guide", "Usage"]])
        XCTAssertEqual(chunks[2].text, "### Linux\n\nUse apt.")
    }

    func testChineseSentencesSplitAtChinesePunctuation() throws {
        let sentence = "全文检索引擎把文档切成小块并建立索引。"
        let text = String(repeating: sentence + "它支持中文查询吗？当然支持！", count: 12)
        let chunks = try chunker(max: 48, overlap: 0).chunk(ParsedDocument(title: "t", text: text, format: .text))
        try assertWellFormed(chunks, of: text, max: 48)
        for chunk in chunks {
            XCTAssertTrue(["。", "？", "！"].contains(String(chunk.text.unicodeScalars.last!)), chunk.text)
        }
    }

    func testOverlongSentencesAndWordsAreCutToFit() throws {
        let longSentence = (0..<300).map { "word\($0)" }.joined(separator: " ")
        let punctuation = String(repeating: "-", count: 500)
        let cjk = String(repeating: "汉", count: 400)
        let text = longSentence + "\n\n" + punctuation + "\n\n" + cjk
        let chunks = try chunker(max: 32, overlap: 0).chunk(ParsedDocument(title: "t", text: text, format: .text))
        try assertWellFormed(chunks, of: text, max: 32)
    }

    func testEmptyAndWhitespaceDocumentsHaveNoChunks() throws {
        XCTAssertEqual(try chunker().chunk(ParsedDocument(title: "t", text: "", format: .text)), [])
        XCTAssertEqual(try chunker().chunk(ParsedDocument(title: "t", text: " \n\n\t ", format: .text)), [])
    }

    func testOptionsValidation() {
        XCTAssertNil(ChunkingOptions().validationError)
        XCTAssertNotNil(ChunkingOptions(maxTokens: 300, overlapTokens: 0).validationError)
        XCTAssertNotNil(ChunkingOptions(maxTokens: 100, overlapTokens: 60).validationError)
    }
}
