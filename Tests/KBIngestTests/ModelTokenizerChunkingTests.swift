import Foundation
import KBEmbedding
import KBStore
import KBTestSupport
import XCTest
@testable import KBIngest

/// Chunks are measured with the embedding model's own tokenizer: multilingual-e5-small's
/// SentencePiece for an e5 base, all-MiniLM-L6-v2's WordPiece for a MiniLM base.
final class ModelTokenizerChunkingTests: XCTestCase {
    static let e5: Result<MultilingualE5Embedder, any Error> = Result {
        try MultilingualE5Embedder(directory: TestSupport.modelsDirectory.appendingPathComponent("multilingual-e5-small"),
                                   options: .init(threads: 1))
    }

    private func loadE5() throws -> MultilingualE5Embedder {
        do {
            return try Self.e5.get()
        } catch {
            XCTFail("cannot load multilingual-e5-small: \(error) (run scripts/fetch-models.sh multilingual-e5)")
            throw error
        }
    }

    /// Chinese prose (Debian-description style): e5's pieces often cover two or more characters,
    /// WordPiece makes one token per character.
    static let chinese = String(repeating: "这个软件包提供了一个自由、开源、跨平台的实时策略游戏引擎，支持网络对战和地图编辑器。"
                                + "用户可以通过图形界面管理服务器，查看日志并且配置防火墙规则。", count: 4)

    private func document(_ text: String) -> ParsedDocument {
        ParsedDocument(title: "", text: text, format: .text)
    }

    func testTheCounterIsTheModelsOwnTokenizer() throws {
        let e5 = try loadE5()
        let wordPiece = try TestSupport.loadTokenizer()
        XCTAssertTrue(TokenCounters.counter(for: e5) is MultilingualE5Embedder)
        XCTAssertEqual(TokenCounters.counter(for: e5)?.tokenizerName, "sentencepiece-250002")
        XCTAssertNil(TokenCounters.counter(for: HashingEmbedder()), "a model kb cannot count for")
        // Same text, different counts: the chunker signature (stored in each record hash) differs,
        // so switching a base's model re-chunks its documents.
        XCTAssertNotEqual(e5.countTokens(Self.chinese), wordPiece.countTokens(Self.chinese))
        let options = ChunkingOptions()
        XCTAssertNotEqual(Chunker(options: options, counter: e5).signature, Chunker(options: options, counter: wordPiece).signature)
        XCTAssertEqual(e5.chunkTokenLimit, e5.maxTokens - 2 - e5.countTokens(MultilingualE5Embedder.passagePrefix))
        XCTAssertEqual(wordPiece.chunkTokenLimit, 254)
    }

    func testChineseThatWordPieceSplitsFitsOneE5Chunk() throws {
        let e5 = try loadE5()
        let wordPiece = try TestSupport.loadTokenizer()
        let options = ChunkingOptions(maxTokens: 200, overlapTokens: 0)
        let wordPieceTokens = wordPiece.countTokens(Self.chinese), e5Tokens = e5.countTokens(Self.chinese)
        XCTAssertGreaterThan(wordPieceTokens, options.maxTokens, "one WordPiece token per character")
        XCTAssertLessThanOrEqual(e5Tokens, options.maxTokens, "SentencePiece pieces span several characters")
        XCTAssertEqual(Chunker(options: options, counter: e5).chunk(document(Self.chinese)).map(\.text), [Self.chinese])
        let byWordPiece = Chunker(options: options, counter: wordPiece).chunk(document(Self.chinese))
        XCTAssertGreaterThan(byWordPiece.count, 1)
        for chunk in byWordPiece { XCTAssertLessThanOrEqual(wordPiece.countTokens(chunk.text), options.maxTokens) }
    }

    func testNoE5ChunkExceedsTheModelsInputLimit() throws {
        let e5 = try loadE5()
        let wordPiece = try TestSupport.loadTokenizer()
        // Words over 100 characters are one [UNK] to WordPiece but dozens of pieces to e5; CJK and
        // mixed text besides. Counted with WordPiece this fits one 240-token chunk that e5 would cut.
        var generator = SystemRandomNumberGenerator()
        let letters = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        let hashes = (0..<60).map { _ in String((0..<110).map { _ in letters.randomElement(using: &generator)! }) }
        let text = hashes.joined(separator: " ") + " " + Self.chinese + " kb 的 SQLite 索引 FTS5 与 向量 search 混合。"
        let wordPieceChunks = Chunker(options: ChunkingOptions(), counter: wordPiece).chunk(document(text))
        XCTAssertTrue(wordPieceChunks.contains { e5.tokenIDs($0.text, kind: .passage).count == e5.maxTokens
                                                 && e5.countTokens($0.text) > e5.chunkTokenLimit },
                      "the WordPiece count lets e5 cut a chunk's tail")
        for maxTokens in [ChunkingOptions().maxTokens, e5.chunkTokenLimit] {
            let chunks = Chunker(options: ChunkingOptions(maxTokens: maxTokens, overlapTokens: 32), counter: e5)
                .chunk(document(text))
            XCTAssertGreaterThan(chunks.count, 1)
            for chunk in chunks {
                XCTAssertLessThanOrEqual(e5.countTokens(chunk.text), maxTokens)
                XCTAssertEqual(chunk.tokenCount, e5.countTokens(chunk.text))
                // What the encoder reads: <s> passage: … </s>, uncut.
                let full = e5.countTokens(MultilingualE5Embedder.passagePrefix + chunk.text) + 2
                XCTAssertLessThanOrEqual(full, e5.maxTokens, "chunk \(chunk.startOffset)..<\(chunk.endOffset)")
            }
            XCTAssertEqual(chunks.first?.startOffset, 0)
            XCTAssertEqual(chunks.last?.endOffset, text.unicodeScalars.count, "the tail is in a chunk")
        }
    }

    func testSwitchingTheTokenizerRechunksOnReingest() throws {
        let directory = try TestSupport.temporaryDirectory(self)
        let file = try TestSupport.write(Self.chinese, to: "zh.txt", in: directory)
        let store = try KBDatabase(path: directory.appendingPathComponent("kb.sqlite").path)
        let options = ChunkingOptions(maxTokens: 200, overlapTokens: 0)
        let first = try IngestPipeline(store: store, chunker: Chunker(options: options, counter: try TestSupport.loadTokenizer()),
                                       options: IngestOptions()).run([file.path])
        XCTAssertEqual(first.added, 1)
        XCTAssertGreaterThan(try store.statistics().chunks, 1)
        let second = try IngestPipeline(store: store, chunker: Chunker(options: options, counter: try loadE5()),
                                        options: IngestOptions()).run([file.path])
        XCTAssertEqual(second.updated, 1, "a new tokenizer changes the record hash")
        XCTAssertEqual(try store.statistics().chunks, 1)
    }
}
