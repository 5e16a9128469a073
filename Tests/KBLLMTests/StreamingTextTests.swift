import Foundation
import XCTest
@testable import KBLLM

/// ``IncrementalDecoder``, ``StopStringMatcher`` and ``EndOfGeneration``.
final class StreamingTextTests: XCTestCase {
    // MARK: - Incremental UTF-8 decoding

    func testNeverEmitsHalfACharacterWhateverTheSplit() {
        let text = "héllo 世界 😀 ok"
        let bytes = Array(text.utf8)
        for first in 0...bytes.count {
            for second in first...bytes.count {
                var decoder = IncrementalDecoder()
                let pieces = [decoder.append(bytes[..<first]), decoder.append(bytes[first..<second]),
                              decoder.append(bytes[second...]), decoder.finish()]
                XCTAssertEqual(pieces.joined(), text, "split at \(first), \(second)")
                XCTAssertFalse(pieces.contains { $0.unicodeScalars.contains("\u{FFFD}") }, "split at \(first), \(second)")
            }
        }
    }

    func testWaitsForTheRestOfACharacter() {
        var decoder = IncrementalDecoder()
        let bytes = Array("世".utf8)  // E4 B8 96
        XCTAssertEqual(decoder.append(bytes[..<1]), "")
        XCTAssertEqual(decoder.append(bytes[1..<2]), "")
        XCTAssertTrue(decoder.hasPendingBytes)
        XCTAssertEqual(decoder.append(bytes[2...] + Array("!".utf8)), "世!")
        XCTAssertFalse(decoder.hasPendingBytes)
        // An unfinished character at the end becomes U+FFFD.
        XCTAssertEqual(decoder.append([0xF0, 0x9F]), "")
        XCTAssertEqual(decoder.finish(), "\u{FFFD}")
    }

    func testInvalidBytesDecodeAsIfAllAtOnce() {
        var random = RandomSource(seed: 3)
        for _ in 0..<300 {
            let bytes = (0..<24).map { _ -> UInt8 in
                // Mostly lead and continuation bytes, to make broken sequences likely.
                let pick = random.next() % 4
                return pick == 0 ? UInt8(random.next() % 128) : UInt8(0x80 + random.next() % 128)
            }
            var decoder = IncrementalDecoder()
            var output = ""
            var index = 0
            while index < bytes.count {
                let step = Int(random.next() % 4) + 1
                output += decoder.append(bytes[index..<min(index + step, bytes.count)])
                index += step
            }
            output += decoder.finish()
            XCTAssertEqual(output, String(decoding: bytes, as: UTF8.self), "\(bytes)")
        }
    }

    // MARK: - Stop strings

    func testAStopStringSplitAcrossPiecesIsHeldAndCut() {
        var matcher = StopStringMatcher(["<|end|>"])
        XCTAssertEqual(matcher.append("Hello <"), "Hello ")
        XCTAssertEqual(matcher.append("|en"), "")
        XCTAssertFalse(matcher.stopped)
        XCTAssertEqual(matcher.append("d|> never shown"), "")
        XCTAssertTrue(matcher.stopped)
        XCTAssertEqual(matcher.append("more"), "")
        XCTAssertEqual(matcher.finish(), "")
    }

    func testHeldTextIsReleasedWhenItIsNotAStop() {
        var matcher = StopStringMatcher(["<|end|>", "\n\n"])
        XCTAssertEqual(matcher.append("a <|e"), "a ")
        XCTAssertEqual(matcher.append("x"), "<|ex")
        XCTAssertEqual(matcher.append("line\n"), "line")
        XCTAssertEqual(matcher.append("next"), "\nnext")
        XCTAssertEqual(matcher.append(" <|"), " ")
        XCTAssertEqual(matcher.finish(), "<|")
    }

    func testTheEarliestStopWinsAndTextBeforeItIsEmitted() {
        var matcher = StopStringMatcher(["World", "lo"])
        XCTAssertEqual(matcher.append("Hello World"), "Hel")
        XCTAssertTrue(matcher.stopped)
        var none = StopStringMatcher([""])
        XCTAssertEqual(none.append("anything <"), "anything <")
    }

    // MARK: - End-of-generation tokens

    /// Every token llama.cpp treats as an end (`llama_vocab_is_eog` over the whole vocabulary,
    /// `Fixtures/generation-reference.json` from scripts/fixtures/make_generation_fixture.py).
    func testEndOfGenerationTokensAreLlamaCpps() throws {
        struct Reference: Decodable {
            struct Model: Decodable {
                let file: String
                let end_of_generation: [Int32]
            }
            let models: [Model]
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: try GGUFReference.fixturePath("generation-reference.json")))
        let reference = try JSONDecoder().decode(Reference.self, from: data)
        XCTAssertEqual(reference.models.count, 2)
        for model in reference.models {
            let file = try ModelFiles.open(model.file)
            let tokenizer = try BPETokenizer(metadata: file.metadata)
            let end = EndOfGeneration(tokenizer: tokenizer, metadata: file.metadata)
            XCTAssertEqual(end.tokens, Set(model.end_of_generation), model.file)
            XCTAssertTrue(end.contains(try XCTUnwrap(tokenizer.id(of: "<|im_end|>"))), model.file)
            XCTAssertFalse(end.contains(try XCTUnwrap(tokenizer.id(of: "<|im_start|>"))), model.file)
        }
    }
}
