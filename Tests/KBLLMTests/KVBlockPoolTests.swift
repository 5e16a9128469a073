import Foundation
import XCTest
@testable import KBLLM
import KBSupport

/// The paged KV pool: blocks of sequences, published prefixes shared by reference, LRU eviction
/// of cached blocks in O(1), copy-on-write, threads, and outputs identical with and without reuse.
final class KVBlockPoolTests: XCTestCase {
    // MARK: - The pool alone (synthetic key/value data)

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

    func tokens(_ seed: Int32, count: Int) -> [Int32] { Self.tokens(seed, count: count) }
    static func tokens(_ seed: Int32, count: Int) -> [Int32] { (0..<Int32(count)).map { ($0 * 7 + seed) % 100 } }

    /// The key float stored for (sequence, layer, position, element of the row).
    static func keyValue(_ sequence: Int, _ layer: Int, _ position: Int, _ element: Int) -> Float {
        Float(sequence * 1_000_000 + layer * 100_000 + position * 100 + element)
    }

    /// A sequence of `tokens` whose every key/value float encodes (sequence, layer, position, element).
    func filledSequence(_ pool: KVBlockPool, sequence: Int, tokens: [Int32]) -> KVSequence {
        let h = Self.hyper
        let s = KVSequence(pool: pool, capacity: 256)
        XCTAssertTrue(s.reserve(adding: tokens.count))
        for layer in 0..<h.layerCount {
            let k = (0..<tokens.count * h.kvDimension).map { Self.keyValue(sequence, layer, $0 / h.kvDimension, $0 % h.kvDimension) }
            s.store(layer: layer, start: 0, rows: tokens.count, k: k, v: k.map { -$0 })
        }
        s.append(tokens)
        return s
    }

    func pool(blocks: Int, blockTokens: Int = 4) -> KVBlockPool {
        let bytes = 2 * Self.hyper.layerCount * Self.hyper.kvDimension * blockTokens * 4
        return KVBlockPool(hyper: Self.hyper, blockTokens: blockTokens, budgetBytes: blocks * bytes, precision: .f32)
    }

    /// The default budget leaves the weights their memory: a 32B model at 4 bits on 24 GiB gets
    /// what is left (not the 8 GiB of 16 full sequences); small models get 16 × 2,048 tokens.
    func testDefaultBudgetLeavesRoomForTheWeights() {
        let gib = 1 << 30, file32B = 19_851_335_776
        let big = LanguageModel.defaultKVCacheBytes(tokenBytes: 256 << 10, modelBytes: file32B, memoryBytes: 24 * gib)
        XCTAssertEqual(big, 24 * gib - file32B - gib)
        XCTAssertLessThan(big, 16 * 2048 * (256 << 10))
        XCTAssertEqual(LanguageModel.defaultKVCacheBytes(tokenBytes: 12 << 10, modelBytes: 491_400_064, memoryBytes: 24 * gib),
                       16 * 2048 * (12 << 10), "Qwen2.5-0.5B: 16 sequences of 2,048 tokens")
        XCTAssertEqual(LanguageModel.defaultKVCacheBytes(tokenBytes: 1 << 10, modelBytes: 1 << 20, memoryBytes: 24 * gib), 256 << 20,
                       "at least 256 MiB")
        XCTAssertEqual(LanguageModel.defaultKVCacheBytes(tokenBytes: 256 << 10, modelBytes: 20 * gib, memoryBytes: 16 * gib), 0,
                       "no memory to spare: the pool then holds one context")
    }

    func testStoredStateRoundTripsAndPublishedPrefixesAreSharedNotCopied() throws {
        let pool = pool(blocks: 16)
        XCTAssertEqual(pool.blockByteCount, 2 * 2 * 8 * 4 * 4, "keys and values × layers × kvDim × tokens × 4 bytes")
        let a = tokens(1, count: 18)  // 4 full blocks + 2 tokens
        let first = filledSequence(pool, sequence: 1, tokens: a)
        XCTAssertEqual(first.blocks.count, 5)
        first.publish(prefix: a.count)
        XCTAssertEqual(pool.statistics.publishedBlocks, 4)
        for layer in 0..<2 {
            for head in 0..<2 {
                for position in [0, 3, 4, 17] {
                    let expected = (0..<4).map { Self.keyValue(1, layer, position, head * 4 + $0) }
                    XCTAssertEqual(first.keyVector(layer: layer, head: head, position: position), expected)
                    XCTAssertEqual(first.valueVector(layer: layer, head: head, position: position), expected.map { -$0 })
                }
            }
        }

        // Shares 9 tokens: two whole blocks, taken by reference.
        var b = Array(a[..<9]) + tokens(50, count: 10)
        b[9] = 99
        let second = KVSequence(pool: pool, capacity: 256)
        XCTAssertEqual(second.adoptCachedPrefix(of: b[...], maxTokens: b.count), 8)
        XCTAssertEqual(Array(second.blocks), Array(first.blocks.prefix(2)), "the same blocks, not copies")
        XCTAssertEqual(second.keyVector(layer: 1, head: 1, position: 7), (0..<4).map { Self.keyValue(1, 1, 7, 4 + $0) })
        XCTAssertEqual(pool.statistics.usedBlocks, 5)
        XCTAssertEqual(pool.statistics.reusedTokens, 8)

        // maxTokens limits the reuse to whole blocks within it.
        let third = KVSequence(pool: pool, capacity: 256)
        XCTAssertEqual(third.adoptCachedPrefix(of: a[...], maxTokens: 15), 12)
        third.release()
        second.release()
        first.release()
        let stats = pool.statistics
        XCTAssertEqual(stats.usedBlocks, 0)
        XCTAssertEqual(stats.cachedBlocks, 4, "published blocks stay cached")
        XCTAssertEqual(stats.freeBlocks, 12)
    }

    func testWritingInsideASharedBlockCopiesItFirst() throws {
        let pool = pool(blocks: 8)
        let a = tokens(3, count: 8)
        let owner = filledSequence(pool, sequence: 3, tokens: a)
        owner.publish(prefix: 8)
        let other = KVSequence(pool: pool, capacity: 256)
        XCTAssertEqual(other.adoptCachedPrefix(of: (a + [1])[...], maxTokens: 8), 8)
        other.truncate(to: 6)
        XCTAssertTrue(other.reserve(adding: 1))
        XCTAssertNotEqual(other.blocks[1], owner.blocks[1], "the shared block was copied before the write")
        XCTAssertEqual(other.blocks[0], owner.blocks[0], "the untouched block stays shared")
        let h = Self.hyper
        let k = [Float](repeating: 42, count: h.kvDimension)
        other.store(layer: 0, start: 6, rows: 1, k: k, v: k)
        other.append([5])
        XCTAssertEqual(other.keyVector(layer: 0, head: 0, position: 6), [42, 42, 42, 42])
        XCTAssertEqual(other.keyVector(layer: 0, head: 0, position: 5), (0..<4).map { Self.keyValue(3, 0, 5, $0) }, "copied state")
        XCTAssertEqual(owner.keyVector(layer: 0, head: 0, position: 6), (0..<4).map { Self.keyValue(3, 0, 6, $0) }, "the published block is unchanged")
    }

    func testEvictionTakesLeastRecentlyUsedBlocksDeepestFirst() throws {
        let pool = pool(blocks: 6)
        let a = tokens(1, count: 12), b = tokens(2, count: 12)
        for (index, prompt) in [a, b].enumerated() {
            let s = filledSequence(pool, sequence: index, tokens: prompt)
            s.publish(prefix: 12)
            s.release()
        }
        XCTAssertEqual(pool.statistics.cachedBlocks, 6)
        XCTAssertEqual(pool.availableBlocks, 6)
        // Two new blocks evict a's last two blocks (a is older; its chain from the end).
        let fresh = KVSequence(pool: pool, capacity: 256)
        XCTAssertTrue(fresh.reserve(adding: 8))
        XCTAssertEqual(pool.statistics.evictions, 2)
        let probeA = KVSequence(pool: pool, capacity: 256)
        XCTAssertEqual(probeA.adoptCachedPrefix(of: a[...], maxTokens: 12), 4, "a keeps its first block")
        let probeB = KVSequence(pool: pool, capacity: 256)
        XCTAssertEqual(probeB.adoptCachedPrefix(of: b[...], maxTokens: 12), 12, "b is whole")
        // Everything is held now: no more room, and nothing is taken.
        XCTAssertFalse(fresh.reserve(adding: 20))
        XCTAssertEqual(fresh.blocks.count, 2)
        XCTAssertEqual(pool.statistics.usedBlocks, 6)
        for s in [fresh, probeA, probeB] { s.release() }
        XCTAssertEqual(pool.statistics.usedBlocks, 0)
        XCTAssertEqual(pool.statistics.freeBlocks + pool.statistics.cachedBlocks, 6)
    }

    func testConcurrentSequencesKeepInvariants() throws {
        let pool = pool(blocks: 40)
        let shared = tokens(9, count: 16)
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            var rng = SplitMix64(seed: UInt64(worker))
            for _ in 0..<200 {
                let variant = Int32(rng.next() % 4)
                let length = 4 + Int(rng.next() % 28)
                let prompt = Array((shared + Self.tokens(variant, count: 48))[..<length])
                let s = KVSequence(pool: pool, capacity: 256)
                let reused = s.adoptCachedPrefix(of: prompt[...], maxTokens: length - 1)
                XCTAssertEqual(reused % 4, 0)
                XCTAssertLessThanOrEqual(reused, length - 1)
                XCTAssertEqual(s.tokens, Array(prompt[..<reused]))
                if s.reserve(adding: length - reused) {
                    s.append(prompt[reused...])
                    s.publish(prefix: length)
                }
                s.release()
            }
        }
        let stats = pool.statistics
        XCTAssertEqual(stats.lookups, 1600)
        XCTAssertGreaterThan(stats.hits, 0)
        XCTAssertEqual(stats.usedBlocks, 0, "every block came back")
        XCTAssertEqual(stats.freeBlocks + stats.cachedBlocks, 40)
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
        return try LanguageModel(path: path, options: .init(threads: 2, contextLength: 512, kvCacheBytes: 64 << 20, kvBlockTokens: blockSize))
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
        let cache = model.kvPool
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
        XCTAssertEqual(stats.usedBlocks, (prompts[0].count + 15) / 16, "the live session holds its prompt's blocks")
        again.reset()
        XCTAssertEqual(cache.statistics.usedBlocks, 0, "every block came back")
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
        XCTAssertEqual(model.kvPool.statistics.lookups, 6)
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
