import Foundation
import XCTest
@testable import KBLLM
import KBSupport

/// The shared prefix cache: lookups, eviction under the byte budget, references, threads, and
/// outputs identical with and without it.
final class PrefixCacheTests: XCTestCase {
    // MARK: - The cache alone (synthetic key/value data)

    /// A small model shape: 2 layers, 2 KV heads of 4 dims.
    static let hyper: ModelHyperparameters = {
        var writer = GGUFWriter()
        writer.metadata = [
            ("general.architecture", .string("llama")), ("llama.block_count", .uint32(2)),
            ("llama.embedding_length", .uint32(16)), ("llama.feed_forward_length", .uint32(32)),
            ("llama.attention.head_count", .uint32(4)), ("llama.attention.head_count_kv", .uint32(2)),
            ("llama.context_length", .uint32(256)), ("llama.attention.layer_norm_rms_epsilon", .float32(1e-5)),
            ("llama.vocab_size", .uint32(100)),
        ]
        let file = try! GGUFFile(path: try! writer.write(name: "shape.gguf"))
        return try! ModelHyperparameters(metadata: file.metadata)
    }()

    /// A KV cache whose every key/value float encodes (sequence, layer, head, position, dim).
    func kvCache(sequence: Int, tokens: Int) -> KVCache {
        let h = Self.hyper
        let cache = KVCache(hyper: h, capacity: 256, precision: .f32)  // the values need float32
        for layer in 0..<h.layerCount {
            let k = (0..<tokens * h.kvDimension).map { Float(sequence * 1_000_000 + layer * 100_000 + $0) }
            let v = k.map { -$0 }
            cache.store(layer: layer, start: 0, rows: tokens, k: k, v: v)
        }
        return cache
    }

    func tokens(_ seed: Int32, count: Int) -> [Int32] { Self.tokens(seed, count: count) }
    static func tokens(_ seed: Int32, count: Int) -> [Int32] { (0..<Int32(count)).map { ($0 * 7 + seed) % 100 } }

    func testLongestPrefixIsFoundAndItsStateRoundTrips() throws {
        let cache = PrefixCache(hyper: Self.hyper, blockSize: 4, budgetBytes: 1 << 20, precision: .f32)
        let a = tokens(1, count: 18)  // 4 full blocks + 2 tokens
        XCTAssertEqual(cache.publish(a, from: kvCache(sequence: 1, tokens: 18)), 4)
        XCTAssertEqual(cache.statistics.blocks, 4)
        XCTAssertEqual(cache.statistics.bytes, 4 * cache.blockByteCount)
        XCTAssertEqual(cache.blockByteCount, 2 * 2 * 8 * 4 * 4, "keys and values × layers × kvDim × tokens × 4 bytes")

        // Shares 9 tokens: two whole blocks.
        var b = Array(a[..<9]) + tokens(50, count: 10)
        b[9] = 99
        let lease = cache.acquireLongestPrefix(of: b, maxTokens: b.count)
        XCTAssertEqual(lease.tokenCount, 8)
        let restored = KVCache(hyper: Self.hyper, capacity: 256, precision: .f32)
        for (index, block) in lease.blocks.enumerated() { restored.copyIn(start: index * 4, tokens: 4, from: block.storage) }
        lease.release()
        let original = kvCache(sequence: 1, tokens: 18)
        for layer in 0..<2 {
            for head in 0..<2 {
                for position in 0..<8 {
                    for d in 0..<4 {
                        XCTAssertEqual(restored.keyVector(layer: layer, head: head, position: position)[d],
                                       original.keyVector(layer: layer, head: head, position: position)[d])
                        XCTAssertEqual(restored.valueVector(layer: layer, head: head, position: position)[d],
                                       original.valueVector(layer: layer, head: head, position: position)[d])
                    }
                }
            }
        }
        // maxTokens caps the reuse; a different first token finds nothing.
        XCTAssertEqual(cache.acquireLongestPrefix(of: a, maxTokens: 15).tokenCount, 12)
        XCTAssertEqual(cache.acquireLongestPrefix(of: [5] + a.dropFirst(), maxTokens: 18).tokenCount, 0)
        let stats = cache.statistics
        XCTAssertEqual(stats.lookups, 3)
        XCTAssertEqual(stats.hits, 2)
        XCTAssertEqual(stats.reusedTokens, 20)
    }

    func testEvictionKeepsWithinTheBudgetDeepestBlocksFirst() throws {
        let blockBytes = PrefixCache(hyper: Self.hyper, blockSize: 4, budgetBytes: 0, precision: .f32).blockByteCount
        let cache = PrefixCache(hyper: Self.hyper, blockSize: 4, budgetBytes: 3 * blockBytes + blockBytes / 2, precision: .f32)
        let a = tokens(1, count: 32)
        // A chain of 8 blocks: the first 3 fit, the rest cannot (the chain itself is in use).
        XCTAssertEqual(cache.publish(a, from: kvCache(sequence: 1, tokens: 32)), 3)
        XCTAssertEqual(cache.statistics.blocks, 3)
        XCTAssertEqual(cache.statistics.rejected, 1)
        XCTAssertTrue(cache.contains(prefix: Array(a[..<12])))
        // Two blocks of another prefix evict a's two deepest blocks.
        let b = tokens(3, count: 8)
        XCTAssertEqual(cache.publish(b, from: kvCache(sequence: 2, tokens: 8)), 2)
        let stats = cache.statistics
        XCTAssertLessThanOrEqual(stats.bytes, cache.budgetBytes)
        XCTAssertEqual(stats.blocks, 3)
        XCTAssertEqual(stats.evictions, 2)
        XCTAssertTrue(cache.contains(prefix: Array(a[..<4])))
        XCTAssertFalse(cache.contains(prefix: Array(a[..<8])))
        XCTAssertTrue(cache.contains(prefix: b))
        // A budget smaller than one block keeps nothing.
        let tiny = PrefixCache(hyper: Self.hyper, blockSize: 4, budgetBytes: blockBytes - 1, precision: .f32)
        XCTAssertEqual(tiny.publish(a, from: kvCache(sequence: 1, tokens: 32)), 0)
        XCTAssertEqual(tiny.statistics.bytes, 0)
    }

    func testReferencedBlocksAreNotEvicted() throws {
        let blockBytes = PrefixCache(hyper: Self.hyper, blockSize: 4, budgetBytes: 0, precision: .f32).blockByteCount
        let cache = PrefixCache(hyper: Self.hyper, blockSize: 4, budgetBytes: 3 * blockBytes, precision: .f32)
        let a = tokens(1, count: 8), b = tokens(2, count: 12)
        cache.publish(a, from: kvCache(sequence: 1, tokens: 8))
        let lease = cache.acquireLongestPrefix(of: a + [1], maxTokens: 9)
        XCTAssertEqual(lease.tokenCount, 8)
        XCTAssertEqual(cache.publish(b, from: kvCache(sequence: 2, tokens: 12)), 1, "only the free third of the budget")
        XCTAssertTrue(cache.contains(prefix: a), "leased blocks stay")
        XCTAssertFalse(cache.contains(prefix: b))
        lease.release()
        lease.release()  // idempotent
        XCTAssertEqual(cache.publish(b, from: kvCache(sequence: 2, tokens: 12)), 2)
        XCTAssertTrue(cache.contains(prefix: b))
        XCTAssertFalse(cache.contains(prefix: Array(a[..<4])), "released blocks were evicted")
        XCTAssertLessThanOrEqual(cache.statistics.bytes, cache.budgetBytes)
    }

    func testConcurrentPublishAndLookupKeepInvariants() throws {
        let blockBytes = PrefixCache(hyper: Self.hyper, blockSize: 4, budgetBytes: 0, precision: .f32).blockByteCount
        let cache = PrefixCache(hyper: Self.hyper, blockSize: 4, budgetBytes: 10 * blockBytes, precision: .f32)
        let sources = (0..<4).map { kvCache(sequence: $0, tokens: 64) }
        let shared = tokens(9, count: 16)
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            var rng = SplitMix64(seed: UInt64(worker))
            for _ in 0..<200 {
                let sequence = Int(rng.next() % 4)
                let length = 4 + Int(rng.next() % 60)
                let prompt = Array((shared + Self.tokens(Int32(sequence), count: 48))[..<length])
                let lease = cache.acquireLongestPrefix(of: prompt, maxTokens: length - 1)
                XCTAssertEqual(lease.tokenCount % 4, 0)
                XCTAssertLessThanOrEqual(lease.tokenCount, length - 1)
                for (index, block) in lease.blocks.enumerated() {
                    XCTAssertEqual(block.tokens, Array(prompt[index * 4..<index * 4 + 4]))
                }
                lease.release()
                cache.publish(prompt, from: sources[sequence])
                XCTAssertLessThanOrEqual(cache.statistics.bytes, cache.budgetBytes)
            }
        }
        let stats = cache.statistics
        XCTAssertEqual(stats.lookups, 1600)
        XCTAssertGreaterThan(stats.hits, 0)
        XCTAssertLessThanOrEqual(stats.blocks, 10)
    }

    // MARK: - With a model

    /// A RAG-like prompt: a shared preamble, then a question of its own.
    static let preamble = "<|im_start|>system\nYou answer questions about the documents below, citing them.\n"
        + "[1] The knowledge base stores documents in one SQLite file and indexes them for search.\n"
        + "[2] Answers come from a small language model that runs on the same machine.<|im_end|>\n"
    static let questions = [
        "<|im_start|>user\nWhere are documents stored?<|im_end|>\n<|im_start|>assistant\n",
        "<|im_start|>user\nWhat runs the language model?<|im_end|>\n<|im_start|>assistant\n",
        "<|im_start|>user\n文件存储在哪里？<|im_end|>\n<|im_start|>assistant\n",
    ]

    func loadWithCache(blockSize: Int = 16) throws -> LanguageModel {
        let path = try EngineModels.path(EngineModels.smolLM2)
        return try LanguageModel(path: path, options: .init(threads: 2, contextLength: 512, prefixCacheBytes: 64 << 20, prefixBlockSize: blockSize))
    }

    func greedy(_ session: InferenceSession, from logits: [Float], count: Int) throws -> [Int32] {
        var logits = logits, out: [Int32] = []
        for _ in 0..<count {
            out.append(Int32(argmax(logits[...])))
            logits = try session.evaluate([out.last!])
        }
        return out
    }

    func testOutputsWithTheCacheEqualOutputsWithout() throws {
        let model = try loadWithCache()
        let cache = try XCTUnwrap(model.prefixCache)
        let prompts = Self.questions.map { model.tokenizer.encode(Self.preamble + $0, parseSpecial: true) }
        for (index, prompt) in prompts.enumerated() {
            let cold = model.makeSession(usePrefixCache: false)
            let coldLogits = try cold.prefill(prompt)
            let warm = model.makeSession()
            let warmLogits = try warm.prefill(prompt)
            if index > 0 {
                XCTAssertGreaterThanOrEqual(warm.lastPrefill.reusedFromCache, 48, "the preamble's blocks are reused")
            }
            XCTAssertEqual(warm.lastPrefill.reusedFromCache + warm.lastPrefill.computed, prompt.count)
            let difference = zip(coldLogits, warmLogits).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(difference, 1e-3, "prompt \(index): logits with and without the cache")
            XCTAssertEqual(try greedy(warm, from: warmLogits, count: 8), try greedy(cold, from: coldLogits, count: 8), "prompt \(index)")
        }
        // The same prompt again reuses everything but its last block's worth.
        let again = model.makeSession()
        _ = try again.prefill(prompts[0])
        XCTAssertEqual(again.lastPrefill.reusedFromCache, (prompts[0].count - 1) / 16 * 16)
        let stats = cache.statistics
        XCTAssertEqual(stats.lookups, 4)
        XCTAssertEqual(stats.hits, 3)
        XCTAssertGreaterThan(stats.reusedTokens, 0)
        XCTAssertEqual(stats.bytes, stats.blocks * cache.blockByteCount)
    }

    func testSessionReusesItsOwnPrefixAcrossPrefills() throws {
        // No prefix cache; exact products, so that a different split of the prompt into batches
        // cannot move int8 activation rounding (this checks the reuse logic, to 1e-3).
        let model = try EngineModels.model(EngineModels.smolLM2, products: .float)
        let first = model.tokenizer.encode(Self.preamble + Self.questions[0], parseSpecial: true)
        let second = model.tokenizer.encode(Self.preamble + Self.questions[1], parseSpecial: true)
        let session = model.makeSession()
        _ = try session.prefill(first)
        let logits = try session.prefill(second)
        let common = zip(first, second).prefix { $0 == $1 }.count
        XCTAssertEqual(session.lastPrefill.reusedFromSession, common)
        XCTAssertEqual(session.lastPrefill.computed, second.count - common)
        XCTAssertEqual(session.tokens, second)
        let fresh = try model.makeSession().evaluate(second)
        XCTAssertLessThanOrEqual(zip(fresh, logits).map { abs($0 - $1) }.max()!, 1e-3)
    }

    func testConcurrentRequestsShareTheCache() throws {
        let model = try loadWithCache()
        let prompts = Self.questions.map { model.tokenizer.encode(Self.preamble + $0, parseSpecial: true) }
        let expected = try prompts.map { try model.makeSession(usePrefixCache: false).prefill($0) }
        let results = ResultBox(count: 6)
        DispatchQueue.concurrentPerform(iterations: 6) { request in
            let session = model.makeSession(threads: ThreadPool(threads: 1))
            results.set(request, Result { try session.prefill(prompts[request % 3]) })
        }
        for request in 0..<6 {
            let logits = try results.get(request).get()
            let difference = zip(logits, expected[request % 3]).map { abs($0 - $1) }.max()!
            XCTAssertLessThanOrEqual(difference, 1e-3, "request \(request)")
        }
        XCTAssertEqual(model.prefixCache?.statistics.lookups, 6)
    }

    func testErrors() throws {
        let model = try EngineModels.model(EngineModels.smolLM2)
        let session = model.makeSession(contextLength: 8)
        XCTAssertThrowsError(try session.evaluate([])) { XCTAssertEqual($0 as? InferenceError, .emptyInput) }
        XCTAssertThrowsError(try session.evaluate([49152])) {
            XCTAssertEqual($0 as? InferenceError, .invalidToken(49152, vocabularySize: 49152))
        }
        XCTAssertThrowsError(try session.evaluate(Array(repeating: 1, count: 9))) {
            XCTAssertEqual($0 as? InferenceError, .contextFull(used: 0, adding: 9, capacity: 8))
        }
        XCTAssertThrowsError(try session.evaluate([1, 2], logitRows: 3)) {
            XCTAssertEqual($0 as? InferenceError, .invalidLogitRows(requested: 3, tokens: 2))
        }
        XCTAssertEqual(session.tokens, [], "failed calls change nothing")
    }
}

/// Results written by concurrent workers, one slot each.
final class ResultBox: @unchecked Sendable {
    private var slots: [Result<[Float], Error>?]
    private let lock = NSLock()
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: Result<[Float], Error>) { lock.withLock { slots[index] = value } }
    func get(_ index: Int) -> Result<[Float], Error> { lock.withLock { slots[index]! } }
}
