import CKBKernels

/// Causal grouped-query attention of a sequence's new tokens over its KV blocks.
///
/// Query `b` (at position `start + b`) attends to positions `0...start + b`; query head `h` reads
/// KV head `h / groupSize`. Scores are scaled by `1/√headDim` and soft-maxed in float32. The work
/// runs in `kb_attention` (CKBKernels) in blocks of consecutive rows × the query heads of one KV
/// head, so each key and value tile is read once per block; with the F16 cache the queries and
/// the probabilities are rounded to F16 as llama.cpp rounds them.
enum Attention {
    /// One sequence's new rows in a layer's attention.
    struct Job {
        /// `rows × headCount × headDim` floats, after RoPE.
        var queries: UnsafePointer<Float>
        var rows: Int
        /// The first row's position; the sequence holds keys/values for `0..<start + rows` of the layer.
        var start: Int
        var sequence: KVSequence
        /// Sum dot products as llama.cpp's vector kernel does for one token (four accumulators)
        /// rather than as its tiled batch kernel (one).
        var singleToken: Bool
        /// `rows × headCount × headDim` floats; overwritten.
        var output: UnsafeMutablePointer<Float>
    }

    /// The attention of every job's rows in `layer`, all in one parallel loop (a pass that decodes
    /// many sequences has one small job per sequence).
    static func apply(_ jobs: [Job], layer: Int, hyper: ModelHyperparameters, pool: ThreadPool, kernels: KernelSet = .automatic) {
        let heads = hyper.headCount, headDim = hyper.headDimension, group = hyper.groupSize
        let kvHeads = hyper.kvHeadCount, width = heads * headDim
        let scale = 1 / Float(headDim).squareRoot()
        // About 32 query vectors per block: enough to amortize loading (and converting) a tile,
        // few enough that the block's scores stay in L2.
        let rowsPerTask = max(1, 32 / group)
        let chunks = jobs.map { ($0.rows + rowsPerTask - 1) / rowsPerTask }
        // Too few blocks to keep the threads busy (decoding one token): one query head per task.
        let headsPerTask = kvHeads * chunks.reduce(0, +) >= 2 * pool.threadCount ? group : 1
        let headSplits = group / headsPerTask
        // Tasks: (job, chunk) pairs, each × KV heads × head splits.
        var blocks: [(job: Int, chunk: Int)] = []
        for (index, count) in chunks.enumerated() { for chunk in 0..<count { blocks.append((index, chunk)) } }
        let perBlock = kvHeads * headSplits
        pool.parallelFor(blocks.count * perBlock) { task in
            let (index, chunk) = blocks[task / perBlock]
            let job = jobs[index]
            let kvHead = task % kvHeads, split = (task / kvHeads) % headSplits
            let firstRow = chunk * rowsPerTask, blockRows = min(job.rows, firstRow + rowsPerTask) - firstRow
            let firstHead = kvHead * group + split * headsPerTask
            let firstLength = job.start + firstRow + 1
            let singleToken: Int32 = job.singleToken ? 1 : 0
            let scratchCount = Int(kb_attention_scratch_floats(Int32(blockRows), Int32(headsPerTask), Int64(firstLength), Int32(headDim), singleToken))
            job.sequence.withBlockTables(layer: layer, head: kvHead, length: job.start + job.rows) { keyBlocks, valueBlocks in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: scratchCount) { scratch in
                    var args = kb_attention_args(
                        q: job.queries + firstRow * width + firstHead * headDim, q_row_stride: Int64(width),
                        out: job.output + firstRow * width + firstHead * headDim, out_row_stride: Int64(width),
                        rows: Int32(blockRows), heads: Int32(headsPerTask), first_length: Int64(firstLength),
                        k_blocks: keyBlocks, v_blocks: valueBlocks, block_tokens: Int64(job.sequence.pool.blockTokens),
                        kv_type: job.sequence.pool.precision.kernelType, head_dim: Int32(headDim), scale: scale,
                        single_token: singleToken, scratch: scratch.baseAddress!)
                    kb_attention(&args, kernels.isa)
                }
            }
        }
    }
}
