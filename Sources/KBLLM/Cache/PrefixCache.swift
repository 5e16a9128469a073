import Foundation
import KBSupport

/// Key/value state of token prefixes, shared by every request to one model, so a prompt that
/// starts like an earlier one (the same system prompt, the same retrieved passages) computes only
/// what is new.
///
/// State is kept in blocks of ``blockSize`` tokens. A block holds the keys and values of its
/// tokens in every layer and is keyed by a hash of the **whole prefix** up to and including it
/// (``PrefixKey``), so equal keys mean equal attention inputs. A request finds its longest cached
/// prefix (``acquireLongestPrefix(of:maxTokens:)``), copies those blocks into its own ``KVCache``
/// while holding a reference to them, computes the rest and publishes its new full blocks
/// (``publish(_:from:)``). Blocks nobody references are evicted least-recently-used first when a
/// new block would exceed ``budgetBytes``; along a chain, deeper blocks are evicted before their
/// parents (a block is useless without its parent).
///
/// Thread-safe: every method may be called from any thread.
public final class PrefixCache: Sendable {
    /// Tokens per block.
    public let blockSize: Int
    /// The most bytes of key/value data the cache keeps.
    public let budgetBytes: Int
    /// How blocks store keys and values (that of the sessions' KV caches).
    public let precision: KVCachePrecision
    /// Bytes per block: keys and values of `blockSize` tokens in every layer.
    public let blockByteCount: Int

    /// One block of key/value state; immutable after insertion, freed on eviction.
    final class Block: @unchecked Sendable {
        let key: PrefixKey
        let parent: PrefixKey
        let tokens: [Int32]
        /// `blockByteCount` bytes in ``KVCache/copyOut(start:tokens:to:)`` layout.
        let storage: UnsafeMutableRawPointer
        /// Leases holding the block; it is never evicted while positive.
        var references = 0
        /// The cache clock at the last use (larger is more recent).
        var lastUse: UInt64 = 0

        init(key: PrefixKey, parent: PrefixKey, tokens: [Int32], byteCount: Int) {
            self.key = key
            self.parent = parent
            self.tokens = tokens
            storage = .allocate(byteCount: byteCount, alignment: 64)
        }

        deinit { storage.deallocate() }
    }

    /// Blocks of a cached prefix a request holds while it copies them; released by ``release()``
    /// or when the lease is freed.
    public final class Lease: @unchecked Sendable {
        /// The blocks of the prefix, in order.
        let blocks: [Block]
        private weak var cache: PrefixCache?
        private var released = false

        /// The number of tokens the leased blocks cover (`blocks × blockSize`).
        public let tokenCount: Int

        init(blocks: [Block], tokenCount: Int, cache: PrefixCache) {
            self.blocks = blocks
            self.tokenCount = tokenCount
            self.cache = cache
        }

        /// Drops the references, letting the blocks be evicted again. Idempotent.
        public func release() {
            cache?.release(self)
        }

        /// Marks the lease released; `true` the first time (under the cache's lock).
        func markReleased() -> Bool {
            defer { released = true }
            return !released
        }

        deinit { release() }
    }

    /// The blocks by key, the use clock and the counters.
    private struct State: Sendable {
        var blocks: [PrefixKey: Block] = [:]
        var clock: UInt64 = 0
        var stats = PrefixCacheStatistics()

        /// Marks `chain` used now, its first block most recently, so that eviction takes the deepest
        /// blocks of a chain first.
        mutating func touch(_ chain: [Block]) {
            for block in chain.reversed() {
                clock += 1
                block.lastUse = clock
            }
        }

        /// Evicts unreferenced blocks, least recently used first, until one more block fits.
        /// - Returns: false when it cannot fit (everything left is referenced, or the budget is
        ///   smaller than a block).
        mutating func makeRoom(blockByteCount: Int, budgetBytes: Int) -> Bool {
            guard blockByteCount <= budgetBytes else { return false }
            while (blocks.count + 1) * blockByteCount > budgetBytes {
                var victim: Block?
                for block in blocks.values where block.references == 0 {
                    if victim == nil || block.lastUse < victim!.lastUse { victim = block }
                }
                guard let victim else { return false }
                blocks[victim.key] = nil
                stats.evictions += 1
            }
            return true
        }
    }

    private let state = Locked(State())

    /// Creates an empty cache for a model of shape `hyper`.
    /// - Parameters:
    ///   - blockSize: tokens per block (at least 1; 32 by default).
    ///   - budgetBytes: the most bytes of key/value data to keep (0 keeps nothing).
    ///   - precision: that of the KV caches it copies from and to (F16 by default).
    public init(hyper: ModelHyperparameters, blockSize: Int = 32, budgetBytes: Int, precision: KVCachePrecision = .f16) {
        self.blockSize = max(1, blockSize)
        self.budgetBytes = max(0, budgetBytes)
        self.precision = precision
        blockByteCount = 2 * hyper.layerCount * hyper.kvDimension * self.blockSize * precision.elementByteCount
    }

    /// A snapshot of the counters.
    public var statistics: PrefixCacheStatistics {
        state.withLock { state in
            var s = state.stats
            s.blocks = state.blocks.count
            s.bytes = state.blocks.count * blockByteCount
            return s
        }
    }

    /// Finds the longest cached prefix of `tokens` made of whole blocks and at most `maxTokens`
    /// long, and references its blocks until the lease is released.
    /// - Complexity: O(prefix length) hashing plus O(1) per block.
    public func acquireLongestPrefix(of tokens: [Int32], maxTokens: Int) -> Lease {
        let usable = min(tokens.count, max(0, maxTokens)) / blockSize
        // Hash outside the lock.
        var keys: [PrefixKey] = []
        keys.reserveCapacity(usable)
        var key = PrefixKey.empty
        for index in 0..<usable {
            key = key.appending(tokens[index * blockSize..<(index + 1) * blockSize])
            keys.append(key)
        }
        return state.withLock { state in
            var found: [Block] = []
            var parent = PrefixKey.empty
            for (index, key) in keys.enumerated() {
                let range = index * blockSize..<(index + 1) * blockSize
                guard let block = state.blocks[key], block.parent == parent, block.tokens[...] == tokens[range] else { break }
                found.append(block)
                parent = key
            }
            for block in found { block.references += 1 }
            state.touch(found)
            state.stats.lookups += 1
            if !found.isEmpty { state.stats.hits += 1 }
            state.stats.reusedTokens += found.count * blockSize
            return Lease(blocks: found, tokenCount: found.count * blockSize, cache: self)
        }
    }

    /// Stores the full blocks of `tokens` that are not cached yet, reading their keys and values
    /// from positions `0..<tokens.count` of `kvCache`, evicting unreferenced blocks as needed.
    /// Stops at the first block that does not fit (its descendants would be unreachable).
    /// - Returns: the number of blocks added.
    @discardableResult
    func publish(_ tokens: [Int32], from kvCache: KVCache) -> Int {
        let count = tokens.count / blockSize
        guard count > 0 else { return 0 }
        precondition(kvCache.blockByteCount(tokens: blockSize) == blockByteCount && kvCache.precision == precision,
                     "a KV cache of another model or precision")
        return state.withLock { state in
            var chain: [Block] = []
            var added = 0
            var parent = PrefixKey.empty
            for index in 0..<count {
                let range = index * blockSize..<(index + 1) * blockSize
                let key = parent.appending(tokens[range])
                if let block = state.blocks[key] {
                    guard block.parent == parent, block.tokens[...] == tokens[range] else { break }  // a hash collision: keep the old block
                    block.references += 1  // not evicted to make room for its own descendants
                    chain.append(block)
                } else {
                    guard state.makeRoom(blockByteCount: blockByteCount, budgetBytes: budgetBytes) else {
                        state.stats.rejected += 1
                        break
                    }
                    let block = Block(key: key, parent: parent, tokens: Array(tokens[range]), byteCount: blockByteCount)
                    kvCache.copyOut(start: range.lowerBound, tokens: blockSize, to: block.storage)
                    state.blocks[key] = block
                    block.references += 1
                    chain.append(block)
                    state.stats.insertions += 1
                    added += 1
                }
                parent = key
            }
            for block in chain { block.references -= 1 }
            state.touch(chain)
            return added
        }
    }

    /// Whether the blocks covering `tokens` (whole blocks only) are all cached.
    public func contains(prefix tokens: [Int32]) -> Bool {
        let count = tokens.count / blockSize
        var key = PrefixKey.empty
        return state.withLock { state in
            for index in 0..<count {
                key = key.appending(tokens[index * blockSize..<(index + 1) * blockSize])
                guard state.blocks[key] != nil else { return false }
            }
            return true
        }
    }

    // MARK: - Under the lock

    fileprivate func release(_ lease: Lease) {
        state.withLock { _ in
            guard lease.markReleased() else { return }
            for block in lease.blocks { block.references -= 1 }
        }
    }
}
