import Foundation
import XCTest
@testable import KBEmbedding
import KBSupport

/// The `E5S1` reader on the real file and on damaged copies, the Q4_0 block format, and the
/// SentencePiece tokenizer's steps.
final class E5ModelFileTests: XCTestCase {
    static let modelFile = MultilingualE5EmbedderTests.modelDirectory.appendingPathComponent("e5-small-q4.bin")

    func temporaryFile(_ bytes: [UInt8]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kb-e5-\(UUID()).bin")
        try Data(bytes).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func realBytes(_ count: Int) throws -> [UInt8] {
        let handle = try FileHandle(forReadingFrom: Self.modelFile)
        defer { try? handle.close() }
        return [UInt8](try XCTUnwrap(handle.read(upToCount: count)))
    }

    func testReadsTheShippedFile() throws {
        let file = try E5ModelFile(url: Self.modelFile)
        XCTAssertEqual(file.header, E5ModelFile.Header(
            hiddenSize: 384, layerCount: 12, headCount: 12, intermediateSize: 1536, embeddingRows: 250_037,
            maxPositions: 512, tokenTypeCount: 2, layerNormEpsilon: file.header.layerNormEpsilon, blockSize: 32))
        XCTAssertEqual(file.header.layerNormEpsilon, 1e-12, accuracy: 1e-15)
        XCTAssertEqual(file.specialTokens, E5ModelFile.SpecialTokens(begin: 0, end: 2, padding: 1, unknown: 3))
        XCTAssertEqual(file.pieceCount, 250_002)
        XCTAssertEqual(file.tensors.count, 5 + 12 * 16)
        XCTAssertEqual(file.tensors["emb.word"]?.dataType, .q4_0)
        XCTAssertEqual(file.normalization[0x09], [0x20], "tab becomes a space")
        XCTAssertEqual(file.normalization[0xFF21], [0x41], "fullwidth A folds to A (NFKC)")
    }

    func testRefusesAFileOfAnotherFormat() throws {
        let url = try temporaryFile(Array("GGUF and then some bytes".utf8))
        XCTAssertThrowsError(try E5ModelFile(url: url)) { error in
            XCTAssertEqual(error as? E5ModelFileError, .notE5S1(file: url))
            XCTAssertTrue("\(error)".contains(url.path))
        }
    }

    func testRefusesATruncatedFile() throws {
        let url = try temporaryFile(try realBytes(100_000))  // ends inside the piece offsets
        XCTAssertThrowsError(try E5ModelFile(url: url)) { error in
            guard case .truncated(let file, let what)? = error as? E5ModelFileError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, url)
            XCTAssertEqual(what, "piece offsets")
        }
    }

    func testRefusesAnotherVersionAndNonsenseSizes() throws {
        var bytes = try realBytes(64)
        bytes[4] = 2
        XCTAssertThrowsError(try E5ModelFile(url: try temporaryFile(bytes))) { error in
            guard case .unsupported(_, let reason)? = error as? E5ModelFileError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("version 2"), reason)
        }
        bytes = try realBytes(64)
        bytes.replaceSubrange(12..<16, with: [0xFF, 0xFF, 0xFF, 0xFF])  // layer count -1
        XCTAssertThrowsError(try E5ModelFile(url: try temporaryFile(bytes))) { error in
            guard case .malformed(_, let reason)? = error as? E5ModelFileError else { return XCTFail("\(error)") }
            XCTAssertEqual(reason, "layer count is -1")
        }
    }

    func testMissingFileIsNamed() {
        let url = URL(fileURLWithPath: "/nonexistent/e5-small-q4.bin")
        XCTAssertThrowsError(try E5ModelFile(url: url)) { error in
            XCTAssertEqual(error as? EmbeddingModelError, .missingFile(url))
        }
    }

    func testBlockQ4_0Layout() {
        // scale 0.5 (half 0x3800); byte j = low nibble j, high nibble 15 - j
        var block: [UInt8] = [0x00, 0x38]
        for j in 0..<16 { block.append(UInt8(j) | UInt8(15 - j) << 4) }
        XCTAssertEqual(block.count, Q4_0Layout.byteCount)
        var out = [Float](repeating: .nan, count: 32)
        block.withUnsafeBytes { raw in out.withUnsafeMutableBufferPointer {
            Q4_0Layout.dequantize(blocks: raw.baseAddress!, count: 32, into: $0.baseAddress!)
        } }
        for j in 0..<16 {
            XCTAssertEqual(out[j], Float(j - 8) * 0.5)
            XCTAssertEqual(out[j + 16], Float(7 - j) * 0.5)
        }
    }

    func testTokenizerSteps() throws {
        let tokenizer = SentencePieceTokenizer(file: try E5ModelFile(url: Self.modelFile))
        // normalization: fullwidth folds, tabs become spaces, runs of spaces collapse, ▁ marks words
        XCTAssertEqual(String(decoding: tokenizer.normalizedBytes("Ａb\t\t c").bytes, as: UTF8.self), "▁Ab▁c")
        XCTAssertEqual(String(decoding: tokenizer.normalizedBytes(" x").bytes, as: UTF8.self), "▁x", "no second ▁")
        XCTAssertEqual(tokenizer.normalizedBytes("中文").characterStarts, [0, 3, 6, 9])
        // Viterbi picks whole words where the vocabulary has them
        let world = try XCTUnwrap(tokenizer.pieceID(Array("▁world".utf8)))
        XCTAssertEqual(tokenizer.pieces("world"), [world])
        XCTAssertEqual(tokenizer.piece(world), "▁world")
        XCTAssertNil(tokenizer.pieceID(Array("▁hello".utf8)))  // "hello" is ▁hell + o
        XCTAssertEqual(tokenizer.pieces("hello world").map(tokenizer.piece), ["▁hell", "o", "▁world"])
        // a character no piece covers is <unk>, one per character
        XCTAssertEqual(tokenizer.pieces("𠀀𠀁").filter { $0 == 3 }.count, 2)
        // <s> … </s>, cut to the length
        XCTAssertEqual(tokenizer.encode("world hello", maxLength: 3), [0, world, 2])
        XCTAssertEqual(tokenizer.encode("", maxLength: 512), [0, tokenizer.pieceID(Array("▁".utf8))!, 2])
    }
}
