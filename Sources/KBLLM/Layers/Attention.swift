import Foundation

/// Causal grouped-query attention of a batch of new tokens over the KV cache.
///
/// Query `b` (at position `start + b`) attends to positions `0...start + b`; query head `h` reads
/// KV head `h / groupSize`. Scores are scaled by `1/√headDim` and soft-maxed in float32.
enum Attention {
    /// Query rows per parallel task.
    static let rowsPerTask = 8

    /// - Parameters:
    ///   - queries: `rows × headCount × headDim` floats, after RoPE.
    ///   - output: `rows × headCount × headDim` floats; overwritten.
    ///   - cache: holds keys/values for positions `0..<start + rows` of `layer`.
    static func apply(
        queries: UnsafePointer<Float>, rows: Int, start: Int, layer: Int, cache: KVCache,
        hyper: ModelHyperparameters, into output: UnsafeMutablePointer<Float>, pool: ThreadPool
    ) {
        let heads = hyper.headCount, headDim = hyper.headDimension, group = hyper.groupSize
        let width = heads * headDim
        let scale = 1 / Float(headDim).squareRoot()
        let chunks = (rows + rowsPerTask - 1) / rowsPerTask
        pool.parallelFor(heads * chunks) { task in
            let head = task % heads, chunk = task / heads
            let kvHead = head / group
            let keys = cache.key(layer: layer, head: kvHead, position: 0)
            let values = cache.value(layer: layer, head: kvHead, position: 0)
            withUnsafeTemporaryAllocation(of: Float.self, capacity: start + rows) { scores in
                let scores = scores.baseAddress!
                for row in chunk * rowsPerTask..<min(rows, (chunk + 1) * rowsPerTask) {
                    let q = queries + row * width + head * headDim
                    let length = start + row + 1  // causal: positions 0...start+row
                    var maximum = -Float.infinity
                    for t in 0..<length {
                        let s = VectorMath.dot(q, keys + t * headDim, count: headDim) * scale
                        scores[t] = s
                        maximum = max(maximum, s)
                    }
                    var sum: Float = 0
                    for t in 0..<length {
                        let e = exp(scores[t] - maximum)
                        scores[t] = e
                        sum += e
                    }
                    let out = output + row * width + head * headDim
                    out.update(repeating: 0, count: headDim)
                    for t in 0..<length {
                        VectorMath.addScaled(values + t * headDim, scores[t], into: out, count: headDim)
                    }
                    let inverse = 1 / sum
                    for i in 0..<headDim { out[i] *= inverse }
                }
            }
        }
    }
}
