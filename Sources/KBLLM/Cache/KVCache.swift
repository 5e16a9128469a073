/// The keys and values of every layer for the tokens a session has evaluated, in float32.
///
/// Layout per layer: `kvHeads × capacity × headDimension` floats for keys and the same for values,
/// so one head's keys over all positions are contiguous (what attention scans). Position `p` of
/// KV head `h` is at `(h · capacity + p) · headDimension`. Keys are stored after RoPE.
final class KVCache: @unchecked Sendable {
    /// The most positions the cache holds.
    let capacity: Int
    let layerCount: Int
    let kvHeadCount: Int
    let headDimension: Int
    /// `layerCount` key buffers and `layerCount` value buffers, each `kvHeads × capacity × headDim`.
    private let keys: [UnsafeMutablePointer<Float>]
    private let values: [UnsafeMutablePointer<Float>]

    /// Floats per layer per kind: `kvHeads × capacity × headDim`.
    var floatsPerLayer: Int { kvHeadCount * capacity * headDimension }
    /// Bytes of all buffers.
    var byteCount: Int { 2 * layerCount * floatsPerLayer * MemoryLayout<Float>.stride }

    init(hyper: ModelHyperparameters, capacity: Int) {
        self.capacity = capacity
        layerCount = hyper.layerCount
        kvHeadCount = hyper.kvHeadCount
        headDimension = hyper.headDimension
        let count = hyper.kvHeadCount * capacity * hyper.headDimension
        keys = (0..<hyper.layerCount).map { _ in
            // Float is trivial: positions are written before they are read, and untouched pages
            // cost no memory until a long context reaches them.
            UnsafeMutablePointer<Float>.allocate(capacity: count)
        }
        values = (0..<hyper.layerCount).map { _ in
            // Float is trivial: positions are written before they are read, and untouched pages
            // cost no memory until a long context reaches them.
            UnsafeMutablePointer<Float>.allocate(capacity: count)
        }
    }

    deinit {
        for p in keys { p.deallocate() }
        for p in values { p.deallocate() }
    }

    /// The key vector of KV head `head` at `position` in `layer` (`headDimension` floats).
    @inline(__always)
    func key(layer: Int, head: Int, position: Int) -> UnsafeMutablePointer<Float> {
        keys[layer] + (head * capacity + position) * headDimension
    }

    /// The value vector of KV head `head` at `position` in `layer` (`headDimension` floats).
    @inline(__always)
    func value(layer: Int, head: Int, position: Int) -> UnsafeMutablePointer<Float> {
        values[layer] + (head * capacity + position) * headDimension
    }

    /// Stores the keys and values of `rows` tokens at positions `start..<start+rows` of `layer`;
    /// `k` and `v` hold `rows × kvHeads × headDim` floats (a projection's output rows).
    func store(layer: Int, start: Int, rows: Int, k: UnsafePointer<Float>, v: UnsafePointer<Float>) {
        let width = kvHeadCount * headDimension
        for row in 0..<rows {
            for head in 0..<kvHeadCount {
                key(layer: layer, head: head, position: start + row)
                    .update(from: k + row * width + head * headDimension, count: headDimension)
                value(layer: layer, head: head, position: start + row)
                    .update(from: v + row * width + head * headDimension, count: headDimension)
            }
        }
    }

    /// Floats in a block of `tokens` positions: keys then values of each layer, each
    /// `kvHeads × tokens × headDim` (the layout of ``PrefixCache`` blocks).
    func blockFloatCount(tokens: Int) -> Int { 2 * layerCount * kvHeadCount * tokens * headDimension }

    /// Copies positions `start..<start+tokens` of every layer out to `block` (``blockFloatCount(tokens:)`` floats).
    func copyOut(start: Int, tokens: Int, to block: UnsafeMutablePointer<Float>) {
        var out = block
        let run = tokens * headDimension
        for layer in 0..<layerCount {
            for head in 0..<kvHeadCount {
                out.update(from: key(layer: layer, head: head, position: start), count: run)
                out += run
            }
            for head in 0..<kvHeadCount {
                out.update(from: value(layer: layer, head: head, position: start), count: run)
                out += run
            }
        }
    }

    /// Copies a block made by ``copyOut(start:tokens:to:)`` into positions `start..<start+tokens`.
    func copyIn(start: Int, tokens: Int, from block: UnsafePointer<Float>) {
        var input = block
        let run = tokens * headDimension
        for layer in 0..<layerCount {
            for head in 0..<kvHeadCount {
                key(layer: layer, head: head, position: start).update(from: input, count: run)
                input += run
            }
            for head in 0..<kvHeadCount {
                value(layer: layer, head: head, position: start).update(from: input, count: run)
                input += run
            }
        }
    }
}
