import COpenBLAS

/// Tokenized texts packed end to end, without padding: row `r` of every activation matrix is
/// token `r` of the batch, and sequence `s` owns rows `offset(s) ..< offset(s) + lengths[s]`.
///
/// Linear layers, GELU and LayerNorm treat rows independently, and attention runs per sequence
/// over its own rows, so no padding (and no attention mask) is ever needed.
struct PackedBatch {
    var tokenIDs: [Int32] = []  // [tokens]: each sequence's ids, [CLS] … [SEP], one after another
    var lengths: [Int] = []  // [sequences]

    var tokenCount: Int { tokenIDs.count }

    mutating func append(_ ids: [Int32]) {
        tokenIDs.append(contentsOf: ids)
        lengths.append(ids.count)
    }
}

/// Working memory for one batch of up to `tokenCapacity` tokens, reused across batches by one
/// thread. About 14 KB per token for MiniLM (hidden 384, intermediate 1536).
final class BertWorkspace {
    let tokenCapacity: Int
    let maxLength: Int
    let hidden: UnsafeMutablePointer<Float>  // [tokens, hidden] row-major: the residual stream
    let qkv: UnsafeMutablePointer<Float>  // [tokens, 3·hidden]: Q | K | V per row, heads side by side
    let context: UnsafeMutablePointer<Float>  // [tokens, hidden]: attention output, heads side by side
    let intermediate: UnsafeMutablePointer<Float>  // [tokens, intermediate]: FFN activations
    let scores: UnsafeMutablePointer<Float>  // [maxLength, maxLength]: one head's attention matrix

    init(config: BertConfig, tokenCapacity: Int, maxLength: Int) {
        self.tokenCapacity = tokenCapacity
        self.maxLength = maxLength
        hidden = .allocate(capacity: tokenCapacity * config.hiddenSize)
        qkv = .allocate(capacity: tokenCapacity * 3 * config.hiddenSize)
        context = .allocate(capacity: tokenCapacity * config.hiddenSize)
        intermediate = .allocate(capacity: tokenCapacity * config.intermediateSize)
        scores = .allocate(capacity: maxLength * maxLength)
    }

    deinit {
        for buffer in [hidden, qkv, context, intermediate, scores] { buffer.deallocate() }
    }
}

/// The BERT encoder forward pass with mean pooling and L2 normalization: the sentence-embedding
/// computation of all-MiniLM-L6-v2 (and any BERT checkpoint with the same layout).
///
/// Matrix products go to OpenBLAS `sgemm` over the whole batch; the element-wise work is in
/// ``EncoderKernels``. The encoder is stateless: one instance is shared by all threads, each with
/// its own ``BertWorkspace``.
struct BertEncoder: Sendable {
    let config: BertConfig
    let weights: BertWeights

    /// Embeds every sequence of `batch`.
    ///
    /// - Parameters:
    ///   - batch: At most `workspace.tokenCapacity` tokens; each sequence at most
    ///     `config.maxPositions` long and no longer than the workspace's `maxLength`.
    ///   - output: `[batch.lengths.count, hidden]` row-major; receives unit-length vectors.
    func embed(_ batch: PackedBatch, workspace: BertWorkspace, into output: UnsafeMutablePointer<Float>) {
        precondition(batch.tokenCount <= workspace.tokenCapacity, "batch larger than its workspace")
        precondition(batch.lengths.allSatisfy { $0 <= min(workspace.maxLength, config.maxPositions) }, "sequence too long")
        embedTokens(batch, into: workspace.hidden)
        for layer in weights.layers {
            transformerLayer(layer, batch: batch, workspace: workspace)
        }
        meanPoolAndNormalize(batch, hidden: workspace.hidden, into: output)
    }

    /// hidden = LayerNorm(word + position + token type 0), for every token.
    private func embedTokens(_ batch: PackedBatch, into hidden: UnsafeMutablePointer<Float>) {
        let h = config.hiddenSize
        let norm = weights.embeddingNorm
        var row = 0
        for length in batch.lengths {
            for position in 0..<length {
                let x = hidden + row * h  // [hidden]
                weights.wordEmbeddings.row(Int(batch.tokenIDs[row]), count: h, into: x)
                let place = weights.positionEmbeddings + position * h
                for j in 0..<h { x[j] += place[j] }
                // The token-type row is added as the LayerNorm's "bias".
                EncoderKernels.addBiasLayerNorm(
                    x, bias: weights.tokenTypeEmbeddings, gamma: norm.gamma, beta: norm.beta,
                    count: h, epsilon: config.layerNormEpsilon)
                row += 1
            }
        }
    }

    /// One post-LayerNorm transformer layer, in place on `workspace.hidden`.
    private func transformerLayer(_ layer: BertWeights.Layer, batch: PackedBatch, workspace ws: BertWorkspace) {
        let tokens = batch.tokenCount
        let h = config.hiddenSize, inner = config.intermediateSize, eps = config.layerNormEpsilon

        // qkv = hidden·Wqkvᵀ + bqkv                         [tokens, 3h]
        for row in 0..<tokens { (ws.qkv + row * 3 * h).update(from: layer.qkvBias, count: 3 * h) }
        matmul(ws.hidden, layer.qkvWeight, into: ws.qkv, rows: tokens, inputs: h, outputs: 3 * h, accumulate: true)

        // context = softmax(Q·Kᵀ/√d)·V per sequence and head  [tokens, h]
        attention(batch, workspace: ws)

        // hidden = LayerNorm(hidden + context·Woᵀ + bo)       [tokens, h]
        matmul(ws.context, layer.attentionOutputWeight, into: ws.hidden, rows: tokens, inputs: h, outputs: h, accumulate: true)
        for row in 0..<tokens {
            EncoderKernels.addBiasLayerNorm(
                ws.hidden + row * h, bias: layer.attentionOutputBias, gamma: layer.attentionNorm.gamma,
                beta: layer.attentionNorm.beta, count: h, epsilon: eps)
        }

        // intermediate = GELU(hidden·W1ᵀ + b1)                [tokens, inner]
        matmul(ws.hidden, layer.intermediateWeight, into: ws.intermediate, rows: tokens, inputs: h, outputs: inner, accumulate: false)
        for row in 0..<tokens {
            EncoderKernels.addBiasGELU(ws.intermediate + row * inner, bias: layer.intermediateBias, count: inner)
        }

        // hidden = LayerNorm(hidden + intermediate·W2ᵀ + b2)  [tokens, h]
        matmul(ws.intermediate, layer.outputWeight, into: ws.hidden, rows: tokens, inputs: inner, outputs: h, accumulate: true)
        for row in 0..<tokens {
            EncoderKernels.addBiasLayerNorm(
                ws.hidden + row * h, bias: layer.outputBias, gamma: layer.outputNorm.gamma,
                beta: layer.outputNorm.beta, count: h, epsilon: eps)
        }
    }

    /// Scaled dot-product attention of each sequence over its own tokens, head by head.
    private func attention(_ batch: PackedBatch, workspace ws: BertWorkspace) {
        let h = config.hiddenSize, d = config.headSize
        let scale = 1 / Float(d).squareRoot()
        let stride = Int32(3 * h)
        var start = 0
        for length in batch.lengths {
            let n = Int32(length)
            for head in 0..<config.headCount {
                let q = ws.qkv + start * 3 * h + head * d  // [length, d], row stride 3h
                let k = q + h  // [length, d], row stride 3h
                let v = q + 2 * h  // [length, d], row stride 3h
                // scores = Q·Kᵀ/√d                              [length, length]
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, Int32(d), scale, q, stride, k, stride, 0, ws.scores, n)
                for row in 0..<length { EncoderKernels.softmax(ws.scores + row * length, count: length) }
                // context[head] = scores·V                      [length, d], row stride h
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, Int32(d), n, 1, ws.scores, n, v, stride,
                            0, ws.context + start * h + head * d, Int32(h))
            }
            start += length
        }
    }

    /// output = L2-normalize(mean of each sequence's rows of hidden).
    private func meanPoolAndNormalize(_ batch: PackedBatch, hidden: UnsafeMutablePointer<Float>, into output: UnsafeMutablePointer<Float>) {
        let h = config.hiddenSize
        var start = 0
        for (index, length) in batch.lengths.enumerated() {
            let pooled = output + index * h  // [hidden]
            pooled.update(repeating: 0, count: h)
            for row in start..<(start + length) {
                let x = hidden + row * h
                for j in 0..<h { pooled[j] += x[j] }
            }
            var squares: Float = 0
            for j in 0..<h { pooled[j] /= Float(max(length, 1)); squares += pooled[j] * pooled[j] }
            let inverse = 1 / max(squares.squareRoot(), 1e-12)
            for j in 0..<h { pooled[j] *= inverse }
            start += length
        }
    }

    /// `output = input·weightᵀ (+ output if accumulate)`: input `[rows, inputs]`, weight
    /// `[outputs, inputs]` (PyTorch's Linear layout), output `[rows, outputs]`, all row-major.
    private func matmul(
        _ input: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
        rows: Int, inputs: Int, outputs: Int, accumulate: Bool
    ) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(outputs), Int32(inputs),
                    1, input, Int32(inputs), weight, Int32(inputs), accumulate ? 1 : 0, output, Int32(outputs))
    }
}
