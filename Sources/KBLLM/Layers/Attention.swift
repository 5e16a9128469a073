import CKBKernels

/// Causal grouped-query attention of a sequence's new tokens over its KV blocks.
///
/// Query `b` (at position `start + b`) attends to positions `0...start + b`; query head `h` reads
/// KV head `h / groupSize`. Scores are scaled by `1/√headDim` and soft-maxed in float32. The work
/// runs in `kb_attention` (CKBKernels) in blocks of consecutive rows × the query heads of one KV
/// head, so each key and value tile is read once per block; with the F16 cache the queries and
/// the probabilities are rounded to F16 as llama.cpp rounds them.
enum Attention {
    /// - Parameters:
    ///   - queries: `rows × headCount × headDim` floats, after RoPE.
    ///   - output: `rows × headCount × headDim` floats; overwritten.
    ///   - sequence: holds keys/values for positions `0..<start + rows` of `layer`.
    ///   - singleToken: sum dot products as llama.cpp's vector kernel does for one token (four
    ///     accumulators) rather than as its tiled batch kernel (one).
    static func apply(
        queries: UnsafePointer<Float>, rows: Int, start: Int, layer: Int, sequence: KVSequence, singleToken: Bool,
        hyper: ModelHyperparameters, into output: UnsafeMutablePointer<Float>, pool: ThreadPool,
        kernels: KernelSet = .automatic
    ) {
        let heads = hyper.headCount, headDim = hyper.headDimension, group = hyper.groupSize
        let kvHeads = hyper.kvHeadCount, width = heads * headDim
        let scale = 1 / Float(headDim).squareRoot()
        let singleToken: Int32 = singleToken ? 1 : 0
        let length = start + rows
        // About 32 query vectors per block: enough to amortize loading (and converting) a tile,
        // few enough that the block's scores stay in L2.
        let rowsPerTask = max(1, 32 / group)
        let chunks = (rows + rowsPerTask - 1) / rowsPerTask
        // Too few blocks to keep the threads busy (decoding one token): one query head per task.
        let headsPerTask = kvHeads * chunks >= 2 * pool.threadCount ? group : 1
        let headSplits = group / headsPerTask
        pool.parallelFor(kvHeads * headSplits * chunks) { task in
            let kvHead = task % kvHeads, split = (task / kvHeads) % headSplits, chunk = task / (kvHeads * headSplits)
            let firstRow = chunk * rowsPerTask, blockRows = min(rows, firstRow + rowsPerTask) - firstRow
            let firstHead = kvHead * group + split * headsPerTask
            let firstLength = start + firstRow + 1
            let scratchCount = Int(kb_attention_scratch_floats(Int32(blockRows), Int32(headsPerTask), Int64(firstLength), Int32(headDim), singleToken))
            sequence.withBlockTables(layer: layer, head: kvHead, length: length) { keyBlocks, valueBlocks in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: scratchCount) { scratch in
                    var args = kb_attention_args(
                        q: queries + firstRow * width + firstHead * headDim, q_row_stride: Int64(width),
                        out: output + firstRow * width + firstHead * headDim, out_row_stride: Int64(width),
                        rows: Int32(blockRows), heads: Int32(headsPerTask), first_length: Int64(firstLength),
                        k_blocks: keyBlocks, v_blocks: valueBlocks, block_tokens: Int64(sequence.pool.blockTokens),
                        kv_type: sequence.pool.precision.kernelType, head_dim: Int32(headDim), scale: scale,
                        single_token: singleToken, scratch: scratch.baseAddress!)
                    kb_attention(&args, kernels.isa)
                }
            }
        }
    }
}
