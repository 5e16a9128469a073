import Foundation
import XCTest
@testable import KBLLM

/// ``Generator`` over a scripted logits source and the SmolLM2 tokenizer.
final class GeneratorTests: XCTestCase {
    /// Returns logits that make `script[i]` the greedy choice after the i-th evaluation, and
    /// records what it was asked to evaluate.
    struct ScriptedSource: TokenLogitsSource {
        let vocabularySize: Int
        let script: [Int32]
        var contextLength = 1_000
        var evaluated: [[Int32]] = []

        mutating func prefill(_ prompt: [Int32]) throws -> [Float] { try evaluate(prompt) }
        mutating func evaluateNext(_ token: Int32) throws -> [Float] { try evaluate([token]) }

        mutating func evaluate(_ tokens: [Int32]) throws -> [Float] {
            evaluated.append(tokens)
            var logits = [Float](repeating: 0, count: vocabularySize)
            let step = evaluated.count - 1
            if step < script.count { logits[Int(script[step])] = 10 }
            return logits
        }
    }

    nonisolated(unsafe) private static var cached: (BPETokenizer, GGUFMetadata)?

    func smolLM() throws -> (tokenizer: BPETokenizer, generator: Generator) {
        if Self.cached == nil {
            let file = try ModelFiles.open("smollm2-135m-instruct-q4_1.gguf")
            Self.cached = (try BPETokenizer(metadata: file.metadata), file.metadata)
        }
        let (tokenizer, metadata) = Self.cached!
        return (tokenizer, Generator(tokenizer: tokenizer, endOfGeneration: EndOfGeneration(tokenizer: tokenizer, metadata: metadata)))
    }

    func greedy(maxTokens: Int = 64, stop: [String] = []) -> GenerationOptions {
        GenerationOptions(maxTokens: maxTokens, sampling: .greedy, stopStrings: stop)
    }

    func testFollowsTheLogitsAndStopsAtTheEndToken() throws {
        let (tokenizer, generator) = try smolLM()
        let answer = tokenizer.encode(" Paris is the capital.")
        let imEnd = try XCTUnwrap(tokenizer.id(of: "<|im_end|>"))
        var source = ScriptedSource(vocabularySize: tokenizer.vocabularySize, script: answer + [imEnd])
        var pieces: [String] = []
        let result = try generator.generate(prompt: "The capital of France?", options: greedy(), source: &source) {
            pieces.append($0)
        }
        XCTAssertEqual(result.text, " Paris is the capital.")
        XCTAssertEqual(pieces.joined(), result.text)
        XCTAssertEqual(pieces.count, answer.count)
        XCTAssertEqual(result.tokens, answer)
        XCTAssertEqual(result.finishReason, .stop)
        // The prompt once, then each generated token but the last (the end token is never evaluated).
        let prompt = tokenizer.encode("The capital of France?", addSpecial: true, parseSpecial: true)
        XCTAssertEqual(source.evaluated, [prompt] + answer.map { [$0] })
        XCTAssertEqual(result.timings.promptTokens, prompt.count)
        XCTAssertEqual(result.timings.generatedTokens, answer.count + 1)
        XCTAssertGreaterThan(result.timings.timeToFirstTokenMilliseconds, 0)
    }

    func testStopsAtMaxTokens() throws {
        let (tokenizer, generator) = try smolLM()
        let script = tokenizer.encode(" one two three four five six")
        var source = ScriptedSource(vocabularySize: tokenizer.vocabularySize, script: script)
        let result = try generator.generate(prompt: "Count:", options: greedy(maxTokens: 3), source: &source)
        XCTAssertEqual(result.tokens, Array(script.prefix(3)))
        XCTAssertEqual(result.text, tokenizer.decode(Array(script.prefix(3))))
        XCTAssertEqual(result.finishReason, .length)
        XCTAssertEqual(source.evaluated.count, 3)  // prompt + 2 tokens; the 3rd is not evaluated

        var untouched = ScriptedSource(vocabularySize: tokenizer.vocabularySize, script: script)
        let none = try generator.generate(prompt: "Count:", options: greedy(maxTokens: 0), source: &untouched)
        XCTAssertEqual(none.text, "")
        XCTAssertEqual(none.finishReason, .length)
        XCTAssertTrue(untouched.evaluated.isEmpty)

        // A full context ends the generation too.
        var small = ScriptedSource(vocabularySize: tokenizer.vocabularySize, script: script)
        let promptCount = tokenizer.encode("Count:", addSpecial: true, parseSpecial: true).count
        small.contextLength = promptCount + 2
        let full = try generator.generate(prompt: "Count:", options: greedy(maxTokens: 10), source: &small)
        XCTAssertEqual(full.tokens, Array(script.prefix(2)))
        XCTAssertEqual(full.finishReason, .length)
    }

    func testSuppressedFirstTokensAreBarredFromTheFirstStepOnly() throws {
        /// Prefers `first` at every step, and `second` next.
        struct TwoChoices: TokenLogitsSource {
            let vocabularySize: Int
            let first: Int32
            let second: Int32
            var contextLength = 1_000
            mutating func prefill(_ prompt: [Int32]) throws -> [Float] { logits() }
            mutating func evaluateNext(_ token: Int32) throws -> [Float] { logits() }
            func logits() -> [Float] {
                var logits = [Float](repeating: 0, count: vocabularySize)
                logits[Int(first)] = 10
                logits[Int(second)] = 5
                return logits
            }
        }
        let (tokenizer, generator) = try smolLM()
        let bracket = try XCTUnwrap(tokenizer.encode("[").first)
        let word = try XCTUnwrap(tokenizer.encode(" yes").first)
        var source = TwoChoices(vocabularySize: tokenizer.vocabularySize, first: bracket, second: word)
        var options = greedy(maxTokens: 3)
        options.suppressedFirstTokens = [bracket, -1, Int32(tokenizer.vocabularySize)]   // out-of-range ids are ignored
        let result = try generator.generate(prompt: "Cite:", options: options, source: &source)
        XCTAssertEqual(result.tokens, [word, bracket, bracket], "barred from the first step only")

        var plain = TwoChoices(vocabularySize: tokenizer.vocabularySize, first: bracket, second: word)
        XCTAssertEqual(try generator.generate(prompt: "Cite:", options: greedy(maxTokens: 3), source: &plain).tokens,
                       [bracket, bracket, bracket])
    }

    func testAStopStringAcrossTokensEndsTheTextBeforeIt() throws {
        let (tokenizer, generator) = try smolLM()
        let script = tokenizer.encode("Answer: 42\nQuestion: next")
        var source = ScriptedSource(vocabularySize: tokenizer.vocabularySize, script: script)
        var streamed = ""
        let result = try generator.generate(prompt: "Q:", options: greedy(stop: ["\nQuestion"]), source: &source) {
            streamed += $0
        }
        XCTAssertEqual(result.text, "Answer: 42")
        XCTAssertEqual(streamed, "Answer: 42")
        XCTAssertEqual(result.finishReason, .stop)
        XCTAssertLessThan(result.tokens.count, script.count)
    }

    func testACharacterSplitAcrossTokensIsStreamedWhole() throws {
        let (tokenizer, generator) = try smolLM()
        // "界" as its three byte tokens.
        let bytes = Array("界!".utf8)
        let script = try bytes.map { try XCTUnwrap(tokenizer.id(of: String(ByteLevelEncoding.scalars[Int($0)]))) }
        var source = ScriptedSource(vocabularySize: tokenizer.vocabularySize, script: script)
        var pieces: [String] = []
        let result = try generator.generate(prompt: "Say it", options: greedy(maxTokens: 4), source: &source) {
            pieces.append($0)
        }
        XCTAssertEqual(pieces, ["界", "!"])
        XCTAssertEqual(result.text, "界!")
        XCTAssertEqual(result.tokens, script)
    }

    func testCancellingStopsBeforeTheNextToken() throws {
        let (tokenizer, generator) = try smolLM()
        let script = tokenizer.encode(" a b c d e f g h")
        var source = ScriptedSource(vocabularySize: tokenizer.vocabularySize, script: script)
        let flag = CancellationFlag()
        var pieces = 0
        let result = try generator.generate(prompt: "Letters:", options: greedy(), source: &source, cancellation: flag) { _ in
            pieces += 1
            if pieces == 2 { flag.cancel() }
        }
        XCTAssertEqual(result.finishReason, .cancelled)
        XCTAssertEqual(result.tokens, Array(script.prefix(2)))
        XCTAssertEqual(source.evaluated.count, 2)
    }

    func testAnEmptyPromptIsRejected() throws {
        let (tokenizer, generator) = try smolLM()
        var source = ScriptedSource(vocabularySize: tokenizer.vocabularySize, script: [])
        XCTAssertThrowsError(try generator.generate(prompt: "", options: greedy(), source: &source)) { error in
            XCTAssertEqual(error as? GenerationError, .emptyPrompt)
        }
    }
}
