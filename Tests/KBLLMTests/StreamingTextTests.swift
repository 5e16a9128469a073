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

    func testEndOfGenerationTokensOfTheModels() throws {
        let qwenFile = try ModelFiles.open("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
        let qwen = try BPETokenizer(metadata: qwenFile.metadata)
        let qwenEnd = EndOfGeneration(tokenizer: qwen, metadata: qwenFile.metadata)
        // <|endoftext|>, <|im_end|> (eos), and <|fim_pad|>, <|repo_name|>, <|file_sep|> as in llama.cpp.
        XCTAssertEqual(qwenEnd.tokens, [151643, 151645, 151662, 151663, 151664])
        XCTAssertEqual(qwen.tokens[151645], "<|im_end|>")
        XCTAssertFalse(qwenEnd.contains(151644))  // <|im_start|>

        let smolFile = try ModelFiles.open("smollm2-135m-instruct-q4_1.gguf")
        let smol = try BPETokenizer(metadata: smolFile.metadata)
        let smolEnd = EndOfGeneration(tokenizer: smol, metadata: smolFile.metadata)
        // <|endoftext|>, <|im_end|> (eos), <repo_name>, <reponame>, <file_sep>
        XCTAssertEqual(smolEnd.tokens, [0, 2, 3, 4, 5])
    }
}
