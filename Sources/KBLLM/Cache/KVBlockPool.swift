import Foundation
import KBSupport

/// The key/value state of every sequence of one model, in fixed-size blocks: kb's paged KV cache,
/// which is also its prefix cache.
///
/// A block holds the keys and values of ``blockTokens`` consecutive positions in every layer.
/// A running sequence (``KVSequence``) holds a table of blocks. When a block of prompt tokens is
/// full its sequence **publishes** it under the chained hash of the whole prefix up to it
/// (``PrefixKey``); from then on it is immutable and any sequence whose prompt starts with the
/// same tokens takes it by reference (``acquireLongestPrefix(of:maxTokens:)``) instead of
/// computing it. Published blocks stay cached after their sequences end; a block nobody
/// references goes to a least-recently-used list (a finished sequence's blocks deepest first, so
/// a chain is evicted from its end) and is taken back, O(1), when a new block is needed and no
/// block was never used. One byte budget covers running and cached state.
///
/// Storage is one allocation of ``blockCount`` blocks; its pages cost memory only once written.
/// Thread-safe: the bookkeeping is under a lock, and a block is written only by the one sequence
/// that holds it unpublished.
public final class KVBlockPool: @unchecked Sendable {
    /// Positions per block.
    public let blockTokens: Int
    /// Blocks in the pool.
    public let blockCount: Int
    /// Bytes per block: keys and values of ``blockTokens`` positions in every layer.
    public let blockByteCount: Int
    /// How blocks store keys and values.
    public let precision: KVCachePrecision
    let layerCount: Int
    let kvHeadCount: Int
    let headDimension: Int
    /// Bytes of one (layer, kind, KV head) run in a block: `blockTokens × headDim` elements.
    let runByteCount: Int
    /// `blockCount × blockByteCount` bytes. Block layout: `[layer][keys, values][kvHead][position][headDim]`.
    private let storage: UnsafeMutableRawPointer

    /// Bookkeeping of every block.
    private struct State {
        /// Sequences holding each block.
        var references: [Int32]
        /// The prefix key of each published block (nil: private to its sequence, or free).
        var keys: [PrefixKey?]
        /// The parent key and tokens of each published block, checked on every hit.
        var parents: [PrefixKey]
        var tokens: [Int32]
        var published: [PrefixKey: Int] = [:]
        /// Blocks never used or freed unpublished; the lowest first (pages stay compact).
        var free: [Int]
        /// Published blocks nobody references, least recently used at `head`: a doubly linked list.
        var previous: [Int]
        var next: [Int]
        var head = -1
        var tail = -1
        var cachedCount = 0
        var stats = KVPoolStatistics()
    }

    private let state: Locked<State>

    /// Creates a pool for a model of shape `hyper`.
    /// - Parameters:
    ///   - blockTokens: positions per block (at least 1; 32 by default).
    ///   - budgetBytes: the most bytes of key/value state (at least one block is made).
    ///   - precision: how keys and values are stored (F16 by default).
    public init(hyper: ModelHyperparameters, blockTokens: Int = 32, budgetBytes: Int, precision: KVCachePrecision = .f16) {
        self.blockTokens = max(1, blockTokens)
        self.precision = precision
        layerCount = hyper.layerCount
        kvHeadCount = hyper.kvHeadCount
        headDimension = hyper.headDimension
        runByteCount = self.blockTokens * hyper.headDimension * precision.elementByteCount
        blockByteCount = 2 * hyper.layerCount * hyper.kvHeadCount * runByteCount
        blockCount = max(1, budgetBytes / blockByteCount)
        // Untouched pages of a large allocation are not resident: memory grows as blocks are written.
        storage = .allocate(byteCount: blockCount * blockByteCount, alignment: 4096)
        state = Locked(State(
            references: Array(repeating: 0, count: blockCount), keys: Array(repeating: nil, count: blockCount),
            parents: Array(repeating: .empty, count: blockCount), tokens: Array(repeating: 0, count: blockCount * self.blockTokens),
            free: Array((0..<blockCount).reversed()), previous: Array(repeating: -1, count: blockCount),
            next: Array(repeating: -1, count: blockCount)))
    }

    deinit { storage.deallocate() }

    /// Bytes of the whole pool (its budget, rounded down to whole blocks).
    public var byteCount: Int { blockCount * blockByteCount }

    /// The first byte of `block`.
    @inline(__always)
    func base(of block: Int) -> UnsafeMutableRawPointer { storage + block * blockByteCount }

    /// The keys of `layer`, KV head `head`, in `block`: `blockTokens × headDim` elements.
    @inline(__always)
    func keys(block: Int, layer: Int, head: Int) -> UnsafeMutableRawPointer {
        storage + block * blockByteCount + ((2 * layer) * kvHeadCount + head) * runByteCount
    }

    /// The values of `layer`, KV head `head`, in `block`: `blockTokens × headDim` elements.
    @inline(__always)
    func values(block: Int, layer: Int, head: Int) -> UnsafeMutableRawPointer {
        storage + block * blockByteCount + ((2 * layer + 1) * kvHeadCount + head) * runByteCount
    }

    /// A snapshot of the counters and of the blocks' states.
    public var statistics: KVPoolStatistics {
        state.withLock { state in
            var s = state.stats
            s.totalBlocks = blockCount
            s.cachedBlocks = state.cachedCount
            s.freeBlocks = state.free.count
            s.usedBlocks = blockCount - state.cachedCount - state.free.count
            s.publishedBlocks = state.published.count
            s.blockBytes = blockByteCount
            return s
        }
    }

    /// Blocks that could be handed out now: never used, freed, or cached and unreferenced.
    public var availableBlocks: Int { state.withLock { $0.free.count + $0.cachedCount } }

    // MARK: - Sequences' blocks

    /// Takes `count` blocks for a sequence to write, evicting cached blocks least recently used
    /// first; nil (and nothing taken) when fewer are available.
    func allocate(_ count: Int) -> [Int]? {
        state.withLock { state in
            guard state.free.count + state.cachedCount >= count else { return nil }
            var blocks: [Int] = []
            blocks.reserveCapacity(count)
            for _ in 0..<count {
                let block: Int
                if let free = state.free.popLast() {
                    block = free
                } else {
                    block = state.head
                    Self.unlink(block, &state)
                    if let key = state.keys[block] { state.published[key] = nil }
                    state.keys[block] = nil
                    state.stats.evictions += 1
                }
                state.references[block] = 1
                blocks.append(block)
            }
            return blocks
        }
    }

    /// Drops a sequence's references to `blocks`, last first (so a chain's deepest cached block
    /// is evicted first). Published blocks nobody holds stay cached; the rest become free.
    func release(_ blocks: [Int]) {
        state.withLock { state in
            for block in blocks.reversed() {
                state.references[block] -= 1
                precondition(state.references[block] >= 0, "KV block \(block) released twice")
                guard state.references[block] == 0 else { continue }
                if state.keys[block] != nil {
                    Self.append(block, &state)
                } else {
                    state.free.append(block)
                }
            }
        }
    }

    /// Finds the longest cached prefix of `tokens` made of whole blocks and at most `maxTokens`
    /// long, and references its blocks for the caller (who releases them with ``release(_:)``).
    /// - Complexity: O(prefix length) hashing plus O(1) per block.
    func acquireLongestPrefix(of tokens: ArraySlice<Int32>, maxTokens: Int) -> [Int] {
        let usable = min(tokens.count, max(0, maxTokens)) / blockTokens
        let base = tokens.startIndex
        var keys: [PrefixKey] = []
        keys.reserveCapacity(usable)
        var key = PrefixKey.empty
        for index in 0..<usable {   // hashing outside the lock
            key = key.appending(tokens[base + index * blockTokens..<base + (index + 1) * blockTokens])
            keys.append(key)
        }
        return state.withLock { state in
            var found: [Int] = []
            var parent = PrefixKey.empty
            for (index, key) in keys.enumerated() {
                guard let block = state.published[key], state.parents[block] == parent else { break }
                let stored = state.tokens[block * blockTokens..<(block + 1) * blockTokens]
                guard stored.elementsEqual(tokens[base + index * blockTokens..<base + (index + 1) * blockTokens]) else { break }
                found.append(block)
                parent = key
            }
            // Most recently used first along the chain, so that eviction takes its end first.
            for block in found {
                if state.references[block] == 0 { Self.unlink(block, &state) }
                state.references[block] += 1
            }
            state.stats.lookups += 1
            if !found.isEmpty { state.stats.hits += 1 }
            state.stats.reusedTokens += found.count * blockTokens
            return found
        }
    }

    /// Publishes `block`, which holds positions of `tokens` (exactly ``blockTokens``) following
    /// the prefix `parent`, under `parent.appending(tokens)`; it is immutable from now on.
    /// - Returns: the key, or nil when another block already holds that prefix (this one stays private).
    @discardableResult
    func publish(_ block: Int, tokens: ArraySlice<Int32>, parent: PrefixKey) -> PrefixKey? {
        precondition(tokens.count == blockTokens)
        let key = parent.appending(tokens)
        return state.withLock { state in
            guard state.published[key] == nil, state.keys[block] == nil else { return nil }
            state.published[key] = block
            state.keys[block] = key
            state.parents[block] = parent
            state.tokens.replaceSubrange(block * blockTokens..<(block + 1) * blockTokens, with: tokens)
            state.stats.insertions += 1
            return key
        }
    }

    /// Counts a preemption (the batching engine freed a running sequence's blocks to recompute it later).
    func countPreemption() { state.withLock { $0.stats.preemptions += 1 } }

    // MARK: - The least-recently-used list (under the lock)

    private static func append(_ block: Int, _ state: inout State) {
        state.previous[block] = state.tail
        state.next[block] = -1
        if state.tail >= 0 { state.next[state.tail] = block } else { state.head = block }
        state.tail = block
        state.cachedCount += 1
    }

    private static func unlink(_ block: Int, _ state: inout State) {
        let previous = state.previous[block], next = state.next[block]
        if previous >= 0 { state.next[previous] = next } else { state.head = next }
        if next >= 0 { state.previous[next] = previous } else { state.tail = previous }
        state.previous[block] = -1
        state.next[block] = -1
        state.cachedCount -= 1
    }
}

/// Counters of a ``KVBlockPool`` since it was made, and its blocks' states (a snapshot).
public struct KVPoolStatistics: Sendable, Equatable {
    /// Blocks in the pool.
    public var totalBlocks = 0
    /// Blocks held by running sequences.
    public var usedBlocks = 0
    /// Published blocks nobody holds (reusable, evicted least recently used first).
    public var cachedBlocks = 0
    /// Blocks never used or freed.
    public var freeBlocks = 0
    /// Blocks published under a prefix key (held or cached).
    public var publishedBlocks = 0
    /// Bytes per block.
    public var blockBytes = 0
    /// Lookups of a prompt's longest cached prefix.
    public var lookups = 0
    /// Lookups that reused at least one block.
    public var hits = 0
    /// Prompt tokens whose keys and values were reused instead of computed.
    public var reusedTokens = 0
    /// Blocks published.
    public var insertions = 0
    /// Cached blocks evicted to make room.
    public var evictions = 0
    /// Running sequences whose blocks were freed for others (recomputed later).
    public var preemptions = 0

    public init() {}
}
