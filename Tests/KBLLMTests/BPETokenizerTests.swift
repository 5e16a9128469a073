import Foundation
import XCTest
@testable import KBLLM

/// Holds ``BPETokenizer`` to llama.cpp: its own tokenizer tests for the `qwen2` and `llama-bpe`
/// pre-tokenizers (`Fixtures/ggml-vocab-*.gguf.inp/.out`, from the llama-cpp-python 0.3.36 sdist),
/// and prompts on the SmolLM2 and Qwen2.5 model files (`Fixtures/bpe-reference.json`, made by
/// scripts/fixtures/make_bpe_fixture.py).
final class BPETokenizerTests: XCTestCase {
    struct Sample: Decodable {
        let model: String
        let text: String
        let parseSpecial: Bool
        let ids: [Int32]
    }

    struct Reference: Decodable {
        let samples: [Sample]
    }

    // MARK: - Loading

    nonisolated(unsafe) private static var cache: [String: BPETokenizer] = [:]
    private static let lock = NSLock()

    /// The tokenizer of a model file (built once per run).
    func tokenizer(model file: String) throws -> BPETokenizer {
        let gguf = try ModelFiles.open(file)
        return try Self.lock.withLock {
            if let cached = Self.cache[file] { return cached }
            let tokenizer = try BPETokenizer(metadata: gguf.metadata)
            Self.cache[file] = tokenizer
            return tokenizer
        }
    }

    /// llama.cpp's test format: inputs separated by "\n__ggml_vocab_test__\n", one line of ids each.
    static func vocabTests(_ stem: String) throws -> [(text: String, ids: [Int32])] {
        let input = try Data(contentsOf: URL(fileURLWithPath: try GGUFReference.fixturePath(stem + ".inp")))
        let output = try String(contentsOfFile: try GGUFReference.fixturePath(stem + ".out"), encoding: .utf8)
        // Split bytes, not Characters: "\r\n" is one Character in Swift.
        let separator = Array("\n__ggml_vocab_test__\n".utf8)
        var texts: [String] = []
        var bytes = [UInt8](input)[...]
        while !bytes.isEmpty {
            if let match = bytes.firstRange(of: separator) {
                texts.append(String(decoding: bytes[..<match.lowerBound], as: UTF8.self))
                bytes = bytes[match.upperBound...]
            } else {
                texts.append(String(decoding: bytes, as: UTF8.self))
                break
            }
        }
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.split(separator: " ").compactMap { Int32($0) }
        }
        XCTAssertGreaterThanOrEqual(lines.count, texts.count, stem)
        return zip(texts, lines).map { (text: $0, ids: $1) }
    }

    // MARK: - llama.cpp's tokenizer tests

    /// The Qwen2.5 file's regular tokens and merges equal ggml-vocab-qwen2.gguf's, so llama.cpp's
    /// expected ids hold for it.
    func testQwen2MatchesLlamaCppTokenizerTests() throws {
        let tokenizer = try tokenizer(model: GGUFFileTests.qwen2)
        XCTAssertEqual(tokenizer.preTokenizer, .qwen2)
        let tests = try Self.vocabTests("ggml-vocab-qwen2.gguf")
        XCTAssertGreaterThan(tests.count, 30)
        for test in tests {
            XCTAssertEqual(tokenizer.encode(test.text), test.ids, "text: \(test.text.debugDescription)")
        }
    }

    func testLlama3MatchesLlamaCppTokenizerTests() throws {
        let vocabulary = try GGUFFile(path: try GGUFReference.fixturePath("ggml-vocab-llama-bpe.gguf"))
        let tokenizer = try BPETokenizer(metadata: vocabulary.metadata)
        XCTAssertEqual(tokenizer.preTokenizer, .llama3)
        XCTAssertTrue(tokenizer.addsBOS)
        let tests = try Self.vocabTests("ggml-vocab-llama-bpe.gguf")
        XCTAssertGreaterThan(tests.count, 30)
        for test in tests {
            XCTAssertEqual(tokenizer.encode(test.text), test.ids, "text: \(test.text.debugDescription)")
        }
        XCTAssertEqual(tokenizer.encode("Hello", addSpecial: true).first, 128_000)  // BOS
    }

    // MARK: - Real models

    func testModelPromptsMatchReference() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "bpe-reference", withExtension: "json", subdirectory: "Fixtures"))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let samples = try decoder.decode(Reference.self, from: Data(contentsOf: url)).samples
        XCTAssertGreaterThanOrEqual(samples.count, 100)
        for sample in samples {
            let tokenizer = try tokenizer(model: sample.model)
            XCTAssertEqual(tokenizer.encode(sample.text, parseSpecial: sample.parseSpecial), sample.ids,
                           "\(sample.model), parseSpecial \(sample.parseSpecial): \(sample.text.debugDescription)")
            XCTAssertEqual(tokenizer.decode(sample.ids, includeSpecial: true), sample.text, "round trip")
        }
    }

    func testSpecialTokens() throws {
        let qwen = try tokenizer(model: GGUFFileTests.qwen2)
        XCTAssertEqual(qwen.id(of: "<|im_start|>"), 151_644)
        XCTAssertEqual(qwen.eos, 151_645)
        XCTAssertEqual(qwen.bos, 151_643)
        XCTAssertFalse(qwen.addsBOS)
        XCTAssertEqual(qwen.encode("<|im_start|>user", parseSpecial: true), [151_644, 872])
        XCTAssertFalse(qwen.encode("<|im_start|>user").contains(151_644))  // control: only with parseSpecial
        XCTAssertEqual(qwen.encode("<tool_call>").first, 151_657)  // user-defined: always
        XCTAssertEqual(qwen.decode([151_644, 872]), "user")  // control tokens hidden by default
        XCTAssertEqual(qwen.decode([151_644, 872], includeSpecial: true), "<|im_start|>user")
        XCTAssertEqual(qwen.encode("Hello", addSpecial: true), qwen.encode("Hello"))  // Qwen adds no BOS

        let smol = try tokenizer(model: GGUFFileTests.smolLM2)
        XCTAssertEqual(smol.preTokenizer, .smollm)
        XCTAssertEqual(smol.encode("<|im_end|>", parseSpecial: true), [2])
    }

    // MARK: - Pre-tokenizers by hand

    func testPreTokenizerWords() {
        func words(_ pre: PreTokenizer, _ text: String) -> [String] {
            let scalars = Array(text.unicodeScalars)
            return pre.split(scalars).map { String(String.UnicodeScalarView(scalars[$0])) }
        }
        XCTAssertEqual(words(.qwen2, "Hello world 123"), ["Hello", " world", " ", "1", "2", "3"])
        XCTAssertEqual(words(.llama3, "x 12345"), ["x", " ", "123", "45"])
        XCTAssertEqual(words(.llama3, "I'M here\n\n  ok"), ["I", "'M", " here", "\n\n", " ", " ok"])
        XCTAssertEqual(words(.gpt2, "I'M  a  test!?"), ["I", "'", "M", " ", " a", " ", " test", "!?"])
        XCTAssertEqual(words(.smollm, "abc 12x"), ["abc", " ", "1", "2", "x"])
        XCTAssertEqual(words(.qwen2, "你好，世界"), ["你好", "，世界"])  // `[^\r\n\p{L}\p{N}]?\p{L}+`
        XCTAssertEqual(words(.qwen2, ""), [])
    }

    func testByteLevelEncodingIsABijection() {
        let scalars = ByteLevelEncoding.scalars
        XCTAssertEqual(Set(scalars).count, 256)
        XCTAssertEqual(scalars[0x20], "Ġ")
        XCTAssertEqual(scalars[0x0A], "Ċ")
        XCTAssertEqual(scalars[0x41], "A")
        var bytes: [UInt8] = []
        ByteLevelEncoding.decode(ByteLevelEncoding.encode(0...255), into: &bytes)
        XCTAssertEqual(bytes, Array(0...255))
    }

    // MARK: - Errors

    func testUnsupportedTokenizersAreNamed() throws {
        func metadata(_ values: [String: GGUFValue]) -> GGUFMetadata {
            GGUFMetadata(file: "x.gguf", keys: Array(values.keys), values: values)
        }
        XCTAssertThrowsError(try BPETokenizer(metadata: metadata(["tokenizer.ggml.model": .string("llama")]))) { error in
            XCTAssertEqual((error as? TokenizerError)?.problem, .unsupportedModel("llama"))
            XCTAssertTrue("\(error)".hasPrefix("x.gguf: "), "\(error)")
        }
        XCTAssertThrowsError(try BPETokenizer(metadata: metadata([
            "tokenizer.ggml.model": .string("gpt2"), "tokenizer.ggml.pre": .string("mystery"),
        ]))) { error in
            XCTAssertEqual((error as? TokenizerError)?.problem, .unsupportedPreTokenizer("mystery"))
        }
        XCTAssertThrowsError(try BPETokenizer(metadata: metadata([:]))) { error in
            XCTAssertEqual((error as? GGUFError)?.problem, .missingKey("tokenizer.ggml.model"))
        }
    }
}
