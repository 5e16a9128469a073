import CKBKernels

/// One sequence's keys and values in a ``KVBlockPool``: a table of blocks covering positions
/// `0..<count`.
///
/// Leading blocks may be shared with other sequences (a cached prompt prefix): those are
/// published and never written; a sequence that must write inside one (after ``truncate(to:)``)
/// copies it to a private block first. Used by one thread at a time; ``release()`` (or deinit)
/// gives every block back.
final class KVSequence: @unchecked Sendable {
    let pool: KVBlockPool
    /// The most positions the sequence may hold.
    let capacity: Int
    /// The blocks, in position order: position p is row p % blockTokens of `blocks[p / blockTokens]`.
    private(set) var blocks: [Int] = []
    /// The tokens whose keys and values are stored, at positions `0..<count`.
    private(set) var tokens: [Int32] = []
    /// Positions whose keys and values are stored.
    var count: Int { tokens.count }
    /// The prefix key of the leading blocks published (or reused) so far, and how many they are.
    private var publishedKey = PrefixKey.empty
    private var publishedBlocks = 0

    init(pool: KVBlockPool, capacity: Int) {
        self.pool = pool
        self.capacity = capacity
    }

    deinit { release() }

    /// Bytes of key/value state the sequence holds (whole blocks, shared ones included).
    var byteCount: Int { blocks.count * pool.blockByteCount }

    /// Starts the sequence with the longest cached prefix of `tokens` (whole blocks, at most
    /// `maxTokens`), taken by reference. The sequence must be empty.
    /// - Returns: the positions reused.
    func adoptCachedPrefix(of prompt: ArraySlice<Int32>, maxTokens: Int) -> Int {
        precondition(blocks.isEmpty && count == 0)
        let found = pool.acquireLongestPrefix(of: prompt, maxTokens: min(maxTokens, capacity))
        blocks = found
        tokens = Array(prompt.prefix(found.count * pool.blockTokens))
        publishedBlocks = found.count
        publishedKey = key(ofBlocks: found.count)
        return count
    }

    /// Makes room for positions `count..<count + adding` (blocks taken from the pool; a shared
    /// block about to be written is copied first).
    /// - Returns: false, with nothing taken, when the pool has too few blocks available.
    func reserve(adding: Int) -> Bool {
        precondition(count + adding <= capacity)
        let size = pool.blockTokens
        let needed = (count + adding + size - 1) / size - blocks.count
        let copyLast = count % size != 0 && count / size < publishedBlocks
        let taking = max(0, needed) + (copyLast ? 1 : 0)
        guard taking > 0 else { return true }
        guard let fresh = pool.allocate(taking) else { return false }
        var rest = fresh[...]
        if copyLast {
            let index = count / size, copy = rest.removeFirst()
            pool.base(of: copy).copyMemory(from: pool.base(of: blocks[index]), byteCount: pool.blockByteCount)
            pool.release([blocks[index]])
            blocks[index] = copy
            publishedBlocks = index
            publishedKey = key(ofBlocks: index)
        }
        blocks.append(contentsOf: rest)
        return true
    }

    /// Records that `written` (the tokens at positions `count..<count + written.count`) are now
    /// stored (after ``reserve(adding:)`` and the forward pass).
    func append(_ written: some Collection<Int32>) {
        precondition(count + written.count <= blocks.count * pool.blockTokens, "tokens beyond the reserved blocks")
        tokens.append(contentsOf: written)
    }

    /// Publishes the full blocks among the first `prefix` positions (prompt tokens only: what
    /// another request's prompt would compute the same way) not published yet.
    func publish(prefix: Int) {
        let size = pool.blockTokens
        let full = min(prefix, count) / size
        while publishedBlocks < full {
            let index = publishedBlocks
            let slice = tokens[index * size..<(index + 1) * size]
            pool.publish(blocks[index], tokens: slice, parent: publishedKey)   // nil when another block has that prefix
            publishedKey = publishedKey.appending(slice)
            publishedBlocks += 1
        }
    }

    /// Forgets positions from `newCount` on; whole blocks past it go back to the pool.
    func truncate(to newCount: Int) {
        guard newCount < count else { return }
        let size = pool.blockTokens
        let keep = (max(0, newCount) + size - 1) / size
        if keep < blocks.count {
            pool.release(Array(blocks[keep...]))
            blocks.removeLast(blocks.count - keep)
        }
        tokens.removeLast(count - max(0, newCount))
        if publishedBlocks > keep {
            publishedBlocks = keep
            publishedKey = key(ofBlocks: keep)
        }
    }

    /// Gives every block back; the sequence is empty afterwards.
    func release() {
        if !blocks.isEmpty { pool.release(blocks) }
        blocks = []
        tokens = []
        publishedBlocks = 0
        publishedKey = .empty
    }

    /// The prefix key of the first `blockCount` blocks' tokens.
    private func key(ofBlocks blockCount: Int) -> PrefixKey {
        var key = PrefixKey.empty
        for index in 0..<blockCount {
            key = key.appending(tokens[index * pool.blockTokens..<(index + 1) * pool.blockTokens])
        }
        return key
    }

    // MARK: - Keys and values

    /// Stores the keys and values of `rows` tokens at positions `start..<start + rows` of `layer`;
    /// `k` and `v` hold `rows × kvHeads × headDim` floats. The positions must be reserved.
    func store(layer: Int, start: Int, rows: Int, k: UnsafePointer<Float>, v: UnsafePointer<Float>) {
        let size = pool.blockTokens, headDim = pool.headDimension, heads = pool.kvHeadCount
        let width = heads * headDim, element = pool.precision.elementByteCount
        for row in 0..<rows {
            let position = start + row
            let block = blocks[position / size], offset = (position % size) * headDim * element
            for head in 0..<heads {
                write(k + row * width + head * headDim, to: pool.keys(block: block, layer: layer, head: head) + offset)
                write(v + row * width + head * headDim, to: pool.values(block: block, layer: layer, head: head) + offset)
            }
        }
    }

    private func write(_ input: UnsafePointer<Float>, to destination: UnsafeMutableRawPointer) {
        let n = pool.headDimension
        switch pool.precision {
        case .f16: kb_f32_to_f16_row(input, destination.assumingMemoryBound(to: UInt16.self), Int64(n), KB_ISA_BEST)
        case .f32: destination.assumingMemoryBound(to: Float.self).update(from: input, count: n)
        }
    }

    /// Calls `body` with the block tables of KV head `head` in `layer` for positions `0..<length`:
    /// key and value pointers, one per block (what `kb_attention` reads).
    func withBlockTables<R>(layer: Int, head: Int, length: Int,
                            _ body: (UnsafePointer<UnsafeRawPointer?>, UnsafePointer<UnsafeRawPointer?>) -> R) -> R {
        let used = (length + pool.blockTokens - 1) / pool.blockTokens
        return withUnsafeTemporaryAllocation(of: UnsafeRawPointer?.self, capacity: 2 * max(1, used)) { tables in
            for index in 0..<used {
                tables[index] = UnsafeRawPointer(pool.keys(block: blocks[index], layer: layer, head: head))
                tables[used + index] = UnsafeRawPointer(pool.values(block: blocks[index], layer: layer, head: head))
            }
            let base = tables.baseAddress!
            return body(base, base + used)
        }
    }

    /// A stored key vector as floats (tests and debugging).
    func keyVector(layer: Int, head: Int, position: Int) -> [Float] {
        vector(pool.keys(block: blocks[position / pool.blockTokens], layer: layer, head: head), position: position)
    }

    /// A stored value vector as floats (tests and debugging).
    func valueVector(layer: Int, head: Int, position: Int) -> [Float] {
        vector(pool.values(block: blocks[position / pool.blockTokens], layer: layer, head: head), position: position)
    }

    private func vector(_ run: UnsafeMutableRawPointer, position: Int) -> [Float] {
        let n = pool.headDimension
        let source = run + (position % pool.blockTokens) * n * pool.precision.elementByteCount
        return [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
            switch pool.precision {
            case .f16: kb_f16_to_f32_row(source.assumingMemoryBound(to: UInt16.self), buffer.baseAddress!, Int64(n), KB_ISA_BEST)
            case .f32: buffer.baseAddress!.update(from: source.assumingMemoryBound(to: Float.self), count: n)
            }
            initialized = n
        }
    }
}
