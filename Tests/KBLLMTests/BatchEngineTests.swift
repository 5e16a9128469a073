import Foundation
import XCTest
@testable import KBLLM
import KBSupport

/// The continuous-batching engine: a request's output is the same alone or beside others and
/// whatever split of its prompt the scheduler chooses (batch invariance), the same as the single
/// session's (which is held to llama.cpp), the same after a preemption; cancellations give every
/// block back; a stress run with random cancellations leaks nothing.
final class BatchEngineTests: XCTestCase {
    /// Prompts of every kind the reference tests use: English, Chinese, code, a list, ChatML; one long.
    static let texts = [
        "The capital of France is",
        "<|im_start|>user\nWhat is a knowledge base? Answer in one sentence.<|im_end|>\n<|im_start|>assistant\n",
        "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
        "北京是中国的首都，也是",
        "Shopping list:\n1. apples\n2.",
        "<|im_start|>system\nYou answer from the sources.<|im_end|>\n<|im_start|>user\n"
            + String(repeating: "[1] The VPN gateway listens on port 4433 and requires a client certificate. ", count: 12)
            + "\nWhich port?<|im_end|>\n<|im_start|>assistant\n",
        "Once upon a time",
        "SELECT name FROM users WHERE",
    ]

    static func prompts(_ model: LanguageModel) -> [[Int32]] {
        texts.map { model.tokenizer.encode($0, addSpecial: true, parseSpecial: true) }
    }

    /// A model with its own pool (each test gets fresh counters): 2 threads, F16 cache, int8 activations.
    func loadModel(_ file: String, poolBytes: Int = 64 << 20, blockTokens: Int = 16, contextLength: Int = 1024) throws -> LanguageModel {
        try LanguageModel(path: EngineModels.path(file), options: .init(
            threads: 2, contextLength: contextLength, kvCacheBytes: poolBytes, kvBlockTokens: blockTokens))
    }

    /// Greedy (or seeded) generation through `source`.
    static func generate(_ model: LanguageModel, prompt: [Int32], tokens: Int, seed: UInt64?, source: some TokenLogitsSource,
                         cancellation: CancellationFlag? = nil) throws -> GenerationResult {
        var options = GenerationOptions(maxTokens: tokens)
        if let seed {
            options.sampling.temperature = 0.9
            options.sampling.topP = 0.95
            options.sampling.seed = seed
        } else {
            options.sampling = .greedy
        }
        var source = source
        return try Generator(model: model).generate(promptTokens: prompt, options: options, source: &source, cancellation: cancellation)
    }

    /// `tokens` tokens sampled after `prompt` (greedy, or seeded), end of text ignored, so every
    /// request decodes as long as asked.
    static func decode(_ prompt: [Int32], tokens: Int, seed: UInt64?, source: BatchedSession) throws -> [Int32] {
        var parameters = SamplingParameters.greedy
        if let seed {
            parameters = SamplingParameters()
            parameters.temperature = 0.9
            parameters.topP = 0.95
            parameters.seed = seed
        }
        var sampler = try Sampler(parameters: parameters)
        defer { source.close() }
        var logits = try source.prefill(prompt)
        var out: [Int32] = []
        for index in 0..<tokens {
            let token = sampler.sample(logits)
            sampler.accept(token)
            out.append(token)
            if index < tokens - 1 { logits = try source.evaluateNext(token) }
        }
        return out
    }

    /// Runs `jobs` at once on their own threads; returns each job's generated tokens (or error).
    static func concurrently(_ count: Int, _ job: @escaping @Sendable (Int) throws -> [Int32]) -> [Result<[Int32], any Error>] {
        let results = Locked([Result<[Int32], any Error>?](repeating: nil, count: count))
        let group = DispatchGroup()
        for index in 0..<count {
            group.enter()
            let thread = Thread {
                let result = Result { try job(index) }
                results.withLock { $0[index] = result }
                group.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        group.wait()
        return results.current.map { $0! }
    }

    // MARK: - Alone

    /// Alone, the engine computes what a single session computes (the path held to llama.cpp):
    /// the same logits (within 1e-4) and the same 12 greedy tokens, on both test models.
    func testAloneItMatchesTheSingleSession() throws {
        for file in [EngineModels.smolLM2, EngineModels.qwen2] {
            let model = try loadModel(file)
            let engine = BatchEngine(model: model)
            for (index, prompt) in Self.prompts(model).enumerated() {
                let session = model.makeSession(usePrefixCache: false)
                let expectedLogits = try session.prefill(prompt)
                let batched = engine.makeSession()
                let logits = try batched.prefill(prompt)
                let difference = zip(expectedLogits, logits).map { abs($0 - $1) }.max()!
                XCTAssertLessThanOrEqual(difference, 1e-4, "\(file) prompt \(index): logits")
                batched.close()
                let expected = try Self.generate(model, prompt: prompt, tokens: 12, seed: nil, source: model.makeSession(usePrefixCache: false))
                let got = try Self.generate(model, prompt: prompt, tokens: 12, seed: nil, source: engine.makeSession())
                XCTAssertEqual(got.tokens, expected.tokens, "\(file) prompt \(index): greedy tokens")
            }
            XCTAssertEqual(model.kvPool.statistics.usedBlocks, 0, "every block came back")
        }
    }

    // MARK: - Batch invariance

    /// Each request's greedy and seeded outputs alone equal its outputs beside 1–15 others, with
    /// prompts split into chunks of 7, 64 or 256 tokens — for both test models.
    func testOutputIsTheSameHoweverBusyTheEngineIs() throws {
        for file in [EngineModels.smolLM2, EngineModels.qwen2] {
            let model = try loadModel(file)
            let prompts = Self.prompts(model)
            let alone = BatchEngine(model: model, settings: .init(maxRunning: 1, tokenBudget: 256))
            var expected: [[Int32]] = []
            for request in 0..<16 {
                let seed: UInt64? = request % 2 == 0 ? nil : UInt64(request)
                expected.append(try Self.generate(model, prompt: prompts[request % prompts.count], tokens: 10, seed: seed,
                                                  source: alone.makeSession()).tokens)
            }
            for (others, budget) in [(1, 256), (3, 7), (7, 64), (15, 256)] {
                let engine = BatchEngine(model: model, settings: .init(maxRunning: 16, tokenBudget: budget))
                let results = Self.concurrently(others + 1) { request in
                    let seed: UInt64? = request % 2 == 0 ? nil : UInt64(request)
                    return try Self.generate(model, prompt: prompts[request % prompts.count], tokens: 10, seed: seed,
                                             source: engine.makeSession()).tokens
                }
                for (request, result) in results.enumerated() {
                    XCTAssertEqual(try result.get(), expected[request], "\(file): request \(request) beside \(others) others, budget \(budget)")
                }
                let stats = engine.statistics
                XCTAssertGreaterThan(stats.steps, 0)
                if others >= 3 {
                    XCTAssertGreaterThan(Double(stats.stepTokens) / Double(stats.steps), 1.5, "\(file): passes batch several sequences")
                }
            }
            XCTAssertEqual(model.kvPool.statistics.usedBlocks, 0, "every block came back")
        }
    }

    /// With a pool too small for every request at once, the newest sequences are preempted and
    /// recomputed; every output is still the one it has alone.
    func testPreemptedRequestsProduceTheSameOutput() throws {
        let file = EngineModels.qwen2
        let probe = try loadModel(file)
        let tokenBytes = 2 * probe.hyperparameters.layerCount * probe.hyperparameters.kvDimension * 2
        // Room for 600 tokens (one context), about 2 of the 6 requests' 300-odd: while some decode,
        // the others' prompts take the rest of the pool, and a decoding sequence's next block must
        // come from preempting the newest.
        let model = try loadModel(file, poolBytes: 600 * tokenBytes, contextLength: 600)
        let prompts = Self.prompts(model)
        // The outputs alone come from another copy of the model, so that the concurrent run finds
        // none of its prompts cached and has to hold them all.
        let aloneModel = try loadModel(file)
        let alone = BatchEngine(model: aloneModel, settings: .init(maxRunning: 1))
        let expected = try (0..<6).map { request in
            try Self.decode(prompts[request % prompts.count] + prompts[5], tokens: 40, seed: request % 2 == 0 ? nil : 7,
                            source: alone.makeSession())
        }
        // Prompt chunks of one block: a prompt being read takes the pool's blocks to the last one.
        let engine = BatchEngine(model: model, settings: .init(maxRunning: 6, tokenBudget: 16, generatingTokenBudget: 16))
        let results = Self.concurrently(6) { request in
            try Self.decode(prompts[request % prompts.count] + prompts[5], tokens: 40, seed: request % 2 == 0 ? nil : 7,
                            source: engine.makeSession())
        }
        for (request, result) in results.enumerated() {
            XCTAssertEqual(try result.get(), expected[request], "request \(request)")
        }
        XCTAssertGreaterThan(engine.statistics.preemptions, 0, "the pool was too small: someone was preempted (\(engine.statistics), \(model.kvPool.statistics))")
        XCTAssertEqual(model.kvPool.statistics.usedBlocks, 0, "every block came back")
    }

    // MARK: - Cancellation and stress

    /// A request cancelled while its prompt is computed, or while it generates, ends with
    /// ``InferenceError/cancelled`` or a cancelled result and gives back every block.
    func testCancellationFreesEveryBlock() throws {
        let model = try loadModel(EngineModels.qwen2)
        let prompts = Self.prompts(model)
        let engine = BatchEngine(model: model, settings: .init(maxRunning: 4, tokenBudget: 16))
        let start = model.kvPool.statistics
        let long = Array((0..<6).flatMap { _ in prompts[5] }.prefix(900))
        // Mid-prefill: 900 tokens at 16 a pass take many passes.
        let flag = CancellationFlag()
        let session = engine.makeSession(cancellation: flag)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { flag.cancel() }
        XCTAssertThrowsError(try session.prefill(long)) { XCTAssertEqual($0 as? InferenceError, .cancelled) }
        session.close()
        // Mid-decode.
        let decodeFlag = CancellationFlag()
        DispatchQueue.global().asyncAfter(deadline: .now() + 1.5) { decodeFlag.cancel() }
        let result = try Self.generate(model, prompt: prompts[0], tokens: 400, seed: nil, source: engine.makeSession(cancellation: decodeFlag),
                                       cancellation: decodeFlag)
        XCTAssertEqual(result.finishReason, .cancelled)
        XCTAssertLessThan(result.tokens.count, 400)
        let end = model.kvPool.statistics
        XCTAssertEqual(end.usedBlocks, start.usedBlocks, "no block is held")
        XCTAssertEqual(end.freeBlocks + end.cachedBlocks, start.freeBlocks + start.cachedBlocks)
        XCTAssertGreaterThanOrEqual(engine.statistics.cancelled, 1)
    }

    /// Many short and long requests, a third cancelled at random times, for a bounded time: no
    /// crash, no leaked block, and every finished output equals the request's output alone.
    func testStressWithRandomCancellations() throws {
        let model = try loadModel(EngineModels.smolLM2, poolBytes: 24 << 20)
        let prompts = Self.prompts(model)
        let alone = BatchEngine(model: model, settings: .init(maxRunning: 1))
        let variants = (0..<prompts.count).map { index -> [Int32] in
            index % 3 == 0 ? Array((0..<4).flatMap { _ in prompts[index] }) : prompts[index]
        }
        let expected = try variants.map { try Self.generate(model, prompt: $0, tokens: 16, seed: nil, source: alone.makeSession()).tokens }
        let engine = BatchEngine(model: model, settings: .init(maxRunning: 12, tokenBudget: 96))
        let deadline = Date(timeIntervalSinceNow: 25)
        let checked = Locked(0)
        let results = Self.concurrently(12) { worker in
            var rng = SplitMix64(seed: UInt64(worker) + 100)
            var finished: [Int32] = []
            while Date() < deadline {
                let variant = Int(rng.next() % UInt64(variants.count))
                let flag = CancellationFlag()
                if rng.next() % 3 == 0 {
                    let delay = Double(rng.next() % 1000) / 1000
                    DispatchQueue.global().asyncAfter(deadline: .now() + delay) { flag.cancel() }
                }
                do {
                    let result = try Self.generate(model, prompt: variants[variant], tokens: 16, seed: nil,
                                                   source: engine.makeSession(cancellation: flag), cancellation: flag)
                    if result.finishReason != .cancelled {
                        XCTAssertEqual(result.tokens, expected[variant], "worker \(worker), variant \(variant)")
                        checked.withLock { $0 += 1 }
                        finished += result.tokens.prefix(1)
                    }
                } catch let error as InferenceError {
                    XCTAssertEqual(error, .cancelled, "worker \(worker)")
                }
            }
            return finished
        }
        for result in results { XCTAssertNoThrow(try result.get()) }
        XCTAssertGreaterThan(checked.current, 12, "requests finished and were checked")
        let stats = model.kvPool.statistics
        XCTAssertEqual(stats.usedBlocks, 0, "no leaked block")
        XCTAssertEqual(stats.freeBlocks + stats.cachedBlocks, stats.totalBlocks)
    }
}
