/// Sees the named intermediates of a forward pass, as llama.cpp's graph callback does
/// (`cb(cur, "attn_norm", il)`): the name with its layer (`attn_norm-3`; `result_norm` and
/// `result_output` have none), the number of rows (batch positions) and the values, row-major.
/// For debugging and for comparing kb with llama.cpp op by op (`scripts/compare-with-llamacpp.py`).
public typealias TensorObserver = (_ name: String, _ rows: Int, _ values: UnsafeBufferPointer<Float>) -> Void

/// The forward pass of a llama/qwen2 decoder over a batch of consecutive tokens.
///
/// For each block: `x += Wo · attention(rope(Wq·n(x) + bq), rope(Wk·n(x) + bk), Wv·n(x) + bv)`,
/// then `x += Wdown · (silu(Wgate·n(x)) ⊙ Wup·n(x))`, with `n` the block's RMSNorms; finally the
/// output norm and the output projection give logits. Every linear layer is one product over the
/// whole batch; matrices that read the same input share its quantization (``SharedInput``).
struct Transformer: Sendable {
    let hyper: ModelHyperparameters
    let weights: TransformerWeights
    let rope: RotaryEmbedding
    let products: WeightMatrix.Arithmetic

    init(hyper: ModelHyperparameters, weights: TransformerWeights, products: WeightMatrix.Arithmetic = .quantizedActivations) {
        self.hyper = hyper
        self.weights = weights
        self.products = products
        rope = RotaryEmbedding(hyper: hyper)
    }

    /// Runs `tokens` at positions `start..<start + tokens.count`, appending their keys and values
    /// to `cache` (which must already hold positions `0..<start`).
    ///
    /// - Parameters:
    ///   - logitRows: how many of the last positions to return logits for (0...tokens.count;
    ///     0 when only the KV cache is wanted, as for the first batches of a long prompt).
    ///   - observer: told every named intermediate (llama.cpp's names), when given.
    /// - Returns: `logitRows × vocabularySize` logits, row-major, the last position last.
    /// - Throws: ``GGUFError`` if an embedding row cannot be decoded (types are checked at load).
    func forward(
        _ tokens: ArraySlice<Int32>, start: Int, cache: KVCache, logitRows: Int, pool: ThreadPool,
        observer: TensorObserver? = nil
    ) throws -> [Float] {
        let n = tokens.count
        precondition(n > 0 && start + n <= cache.capacity && (0...n).contains(logitRows))
        let embedding = hyper.embeddingLength, queryWidth = hyper.queryDimension
        let kvWidth = hyper.kvDimension, hidden = hyper.feedForwardLength

        let residual = ScratchBuffer(n * embedding)       // (n, embedding): the residual stream x
        let normed = ScratchBuffer(n * embedding)         // (n, embedding): RMSNorm(x)
        let queries = ScratchBuffer(n * queryWidth)       // (n, heads, headDim)
        let keys = ScratchBuffer(n * kvWidth)             // (n, kvHeads, headDim)
        let values = ScratchBuffer(n * kvWidth)           // (n, kvHeads, headDim)
        let attended = ScratchBuffer(n * queryWidth)      // (n, heads, headDim): attention output
        let projected = ScratchBuffer(n * embedding)      // (n, embedding): Wo or Wdown output
        let gate = ScratchBuffer(n * hidden)              // (n, feedForward)
        let up = ScratchBuffer(n * hidden)                // (n, feedForward)
        let x = residual.pointer, xn = normed.pointer
        let angles = rope.angles(start: start, rows: n)   // (n, ropeDimension): RoPE's cos/sin, all layers
        let shared = SharedInput(arithmetic: products)      // one quantization of an input read by several matrices
        func observe(_ name: String, _ layer: Int?, _ pointer: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
            guard let observer else { return }
            observer(layer.map { "\(name)-\($0)" } ?? name, rows, UnsafeBufferPointer(start: pointer, count: rows * width))
        }

        for (row, token) in tokens.enumerated() {
            let id = Int(token)
            try weights.tokenEmbedding.dequantize(rows: id..<id + 1).withUnsafeBufferPointer {
                (x + row * embedding).update(from: $0.baseAddress!, count: embedding)
            }
        }

        for (index, layer) in weights.layers.enumerated() {
            // Attention block.
            RMSNorm.apply(x, rows: n, width: embedding, gain: layer.attentionNorm, epsilon: hyper.rmsNormEpsilon, into: xn)
            observe("attn_norm", index, xn, rows: n, width: embedding)
            shared.multiply([(layer.query, queries.pointer), (layer.key, keys.pointer), (layer.value, values.pointer)],
                            by: xn, batch: n, pool: pool)
            if let bias = layer.queryBias { VectorMath.addBias(bias, to: queries.pointer, rows: n, width: queryWidth) }
            if let bias = layer.keyBias { VectorMath.addBias(bias, to: keys.pointer, rows: n, width: kvWidth) }
            if let bias = layer.valueBias { VectorMath.addBias(bias, to: values.pointer, rows: n, width: kvWidth) }
            observe("Vcur", index, values.pointer, rows: n, width: kvWidth)
            angles.withUnsafeBufferPointer { angles in
                for row in 0..<n {
                    let rowAngles = angles.baseAddress! + row * rope.dimension
                    rope.apply(queries.pointer + row * queryWidth, heads: hyper.headCount, angles: rowAngles)
                    rope.apply(keys.pointer + row * kvWidth, heads: hyper.kvHeadCount, angles: rowAngles)
                }
            }
            observe("Qcur", index, queries.pointer, rows: n, width: queryWidth)   // after RoPE, as llama.cpp's last Qcur
            observe("Kcur", index, keys.pointer, rows: n, width: kvWidth)
            cache.store(layer: index, start: start, rows: n, k: keys.pointer, v: values.pointer)
            Attention.apply(
                queries: queries.pointer, rows: n, start: start, layer: index, cache: cache,
                hyper: hyper, into: attended.pointer, pool: pool)
            observe("kqv_out", index, attended.pointer, rows: n, width: queryWidth)
            layer.attentionOutput.multiply(attended.pointer, batch: n, into: projected.pointer, pool: pool, arithmetic: products)
            VectorMath.add(projected.pointer, into: x, count: n * embedding)

            // Feed-forward block. After the last attention only the rows whose logits are wanted
            // matter (the KV cache is complete): as llama.cpp, the last feed-forward runs on those
            // alone (which also sums their products as llama.cpp's kernels for that many rows do).
            let first = index == weights.layers.count - 1 ? n - logitRows : 0
            let rows = n - first
            guard rows > 0 else { continue }
            let xr = x + first * embedding
            observe("ffn_inp", index, xr, rows: rows, width: embedding)   // the rows that go on, as llama.cpp's
            RMSNorm.apply(xr, rows: rows, width: embedding, gain: layer.feedForwardNorm, epsilon: hyper.rmsNormEpsilon, into: xn)
            observe("ffn_norm", index, xn, rows: rows, width: embedding)
            shared.multiply([(layer.gate, gate.pointer), (layer.up, up.pointer)], by: xn, batch: rows, pool: pool)
            VectorMath.swiGLU(gate: gate.pointer, up: up.pointer, rows: rows, width: hidden)
            observe("ffn_swiglu", index, gate.pointer, rows: rows, width: hidden)
            layer.down.multiply(gate.pointer, batch: rows, into: projected.pointer, pool: pool, arithmetic: products)
            observe("ffn_out", index, projected.pointer, rows: rows, width: embedding)
            VectorMath.add(projected.pointer, into: xr, count: rows * embedding)
            observe("l_out", index, xr, rows: rows, width: embedding)
        }

        // Logits of the last `logitRows` positions only.
        guard logitRows > 0 else { return [] }
        let first = n - logitRows
        RMSNorm.apply(x + first * embedding, rows: logitRows, width: embedding, gain: weights.outputNorm,
                      epsilon: hyper.rmsNormEpsilon, into: xn)
        observe("result_norm", nil, xn, rows: logitRows, width: embedding)
        var logits = [Float](repeating: 0, count: logitRows * hyper.vocabularySize)
        logits.withUnsafeMutableBufferPointer {
            weights.output.multiply(xn, batch: logitRows, into: $0.baseAddress!, pool: pool, arithmetic: products)
            observe("result_output", nil, $0.baseAddress!, rows: logitRows, width: hyper.vocabularySize)
        }
        return logits
    }
}

/// Multiplies several matrices by the same input (the attention's Q, K and V projections, the
/// feed-forward's gate and up), quantizing the input once per activation format instead of once per
/// matrix, as llama.cpp's graph does. The quantization is the one each matrix would make itself
/// (same rule, same kernels), so the products are bit for bit those of separate ``WeightMatrix``
/// multiplies. Buffers are kept for the whole forward pass.
final class SharedInput {
    private let arithmetic: WeightMatrix.Arithmetic
    private var buffers: [ActivationFormat: QuantizedActivations] = [:]

    init(arithmetic: WeightMatrix.Arithmetic) { self.arithmetic = arithmetic }

    /// `output = W · input` for each `(W, output)`; `input` is `batch` rows of the matrices' input width.
    func multiply(_ products: [(matrix: WeightMatrix, output: UnsafeMutablePointer<Float>)], by input: UnsafePointer<Float>,
                  batch: Int, pool: ThreadPool) {
        guard arithmetic == .quantizedActivations else {
            for (matrix, output) in products {
                matrix.multiply(input, batch: batch, into: output, pool: pool, arithmetic: arithmetic)
            }
            return
        }
        var quantized: Set<ActivationFormat> = []
        for (matrix, output) in products {
            let format = matrix.activationFormat
            guard format != .float else {
                matrix.multiply(input, batch: batch, into: output, pool: pool)
                continue
            }
            let activations = buffers[format] ?? QuantizedActivations(format: format)
            buffers[format] = activations
            if quantized.insert(format).inserted {
                activations.quantize(input, inputCount: matrix.inputCount, batch: batch, pool: pool)
            }
            matrix.multiply(activations, into: output, pool: pool)
        }
    }
}
