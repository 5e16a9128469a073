/// Sees the named intermediates of a forward pass, as llama.cpp's graph callback does
/// (`cb(cur, "attn_norm", il)`): the name with its layer (`attn_norm-3`; `result_norm` and
/// `result_output` have none), the number of rows (batch positions) and the values, row-major.
/// For debugging and for comparing kb with llama.cpp op by op (`scripts/compare-with-llamacpp.py`).
public typealias TensorObserver = (_ name: String, _ rows: Int, _ values: UnsafeBufferPointer<Float>) -> Void

/// New tokens of one sequence in a forward pass: `tokens` at positions `start..<start + tokens.count`
/// of `sequence` (which holds positions `0..<start` and has room reserved for these).
struct ForwardSegment {
    var tokens: ArraySlice<Int32>
    var start: Int
    var sequence: KVSequence
    /// Each row's summation order in the linear layers (`tokens.count` orders).
    var rowOrders: [RowOrder]
    /// Whether attention sums as llama.cpp's vector kernel does for a single token (four
    /// accumulators) rather than as its tiled batch kernel (one).
    var singleTokenAttention: Bool
    /// How many of the last positions to return logits for (0...tokens.count).
    var logitRows: Int

    /// The tokens as llama.cpp evaluates one sequence's batch of them.
    static func llamaCpp(_ tokens: ArraySlice<Int32>, start: Int, sequence: KVSequence, logitRows: Int) -> ForwardSegment {
        ForwardSegment(tokens: tokens, start: start, sequence: sequence, rowOrders: RowOrder.llamaCpp(batch: tokens.count),
                       singleTokenAttention: tokens.count == 1, logitRows: logitRows)
    }
}

/// The forward pass of a llama/qwen2 decoder over the new tokens of one or many sequences.
///
/// For each block: `x += Wo · attention(rope(Wq·n(x) + bq), rope(Wk·n(x) + bk), Wv·n(x) + bv)`,
/// then `x += Wdown · (silu(Wgate·n(x)) ⊙ Wup·n(x))`, with `n` the block's RMSNorms; finally the
/// output norm and the output projection give logits. Every linear layer is one product over all
/// rows of all sequences (each weight block unpacked once for all of them); matrices that read the
/// same input share its quantization (``SharedInput``); attention runs per sequence over its own
/// blocks. A row's arithmetic depends only on its segment's orders (``ForwardSegment/rowOrders``,
/// ``ForwardSegment/singleTokenAttention``), never on the other rows in the pass: batch invariance.
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

    /// Runs every segment's tokens, storing their keys and values in their sequences.
    ///
    /// - Parameters:
    ///   - logitOrders: the summation orders of the logit rows past the last attention (one per
    ///     logit row, all segments'); nil: llama.cpp's for a batch of that many rows.
    ///   - observer: told every named intermediate (llama.cpp's names), when given.
    /// - Returns: for each segment in order, `logitRows × vocabularySize` logits, row-major.
    /// - Throws: ``GGUFError`` if an embedding row cannot be decoded (types are checked at load).
    func forward(_ segments: [ForwardSegment], logitOrders: [RowOrder]? = nil, pool: ThreadPool,
                 observer: TensorObserver? = nil) throws -> [[Float]] {
        let n = segments.reduce(0) { $0 + $1.tokens.count }
        precondition(n > 0)
        let layerOrder = ProductOrder.rows(segments.flatMap(\.rowOrders))
        let embedding = hyper.embeddingLength, queryWidth = hyper.queryDimension
        let kvWidth = hyper.kvDimension, hidden = hyper.feedForwardLength
        let logitCount = segments.reduce(0) { $0 + $1.logitRows }
        // The rows that go on past the last attention: the logit rows, gathered.
        let tailOrder = logitOrders.map { ProductOrder.rows($0) } ?? .llamaCpp

        let residual = ScratchBuffer(n * embedding)       // (n, embedding): the residual stream x
        let normed = ScratchBuffer(n * embedding)         // (n, embedding): RMSNorm(x)
        let queries = ScratchBuffer(n * queryWidth)       // (n, heads, headDim)
        let keys = ScratchBuffer(n * kvWidth)             // (n, kvHeads, headDim)
        let values = ScratchBuffer(n * kvWidth)           // (n, kvHeads, headDim)
        let attended = ScratchBuffer(n * queryWidth)      // (n, heads, headDim): attention output
        let projected = ScratchBuffer(n * embedding)      // (n, embedding): Wo or Wdown output
        let gate = ScratchBuffer(n * hidden)              // (n, feedForward)
        let up = ScratchBuffer(n * hidden)                // (n, feedForward)
        let tail = ScratchBuffer(max(1, logitCount) * embedding)  // (logitCount, embedding): the logit rows' x
        let x = residual.pointer, xn = normed.pointer
        let shared = SharedInput(arithmetic: products)      // one quantization of an input read by several matrices
        func observe(_ name: String, _ layer: Int?, _ pointer: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
            guard let observer else { return }
            observer(layer.map { "\(name)-\($0)" } ?? name, rows, UnsafeBufferPointer(start: pointer, count: rows * width))
        }
        // Each segment's first row in the batch, and its rows' RoPE angles (n, ropeDimension).
        var firstRows: [Int] = []
        var angles: [Float] = []
        angles.reserveCapacity(n * rope.dimension)
        for segment in segments {
            firstRows.append(firstRows.isEmpty ? 0 : firstRows.last! + segments[firstRows.count - 1].tokens.count)
            angles += rope.angles(start: segment.start, rows: segment.tokens.count)
        }

        var row = 0
        for segment in segments {
            for token in segment.tokens {
                let id = Int(token)
                try weights.tokenEmbedding.dequantize(rows: id..<id + 1).withUnsafeBufferPointer {
                    (x + row * embedding).update(from: $0.baseAddress!, count: embedding)
                }
                row += 1
            }
        }

        for (index, layer) in weights.layers.enumerated() {
            // Attention block.
            RMSNorm.apply(x, rows: n, width: embedding, gain: layer.attentionNorm, epsilon: hyper.rmsNormEpsilon, into: xn)
            observe("attn_norm", index, xn, rows: n, width: embedding)
            shared.multiply([(layer.query, queries.pointer), (layer.key, keys.pointer), (layer.value, values.pointer)],
                            by: xn, batch: n, order: layerOrder, pool: pool)
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
            // Every segment's keys and values first: a sequence's generated rows may read its prompt rows of this pass.
            for (segment, first) in zip(segments, firstRows) {
                segment.sequence.store(layer: index, start: segment.start, rows: segment.tokens.count,
                                       k: keys.pointer + first * kvWidth, v: values.pointer + first * kvWidth)
            }
            Attention.apply(zip(segments, firstRows).map { segment, first in
                Attention.Job(queries: queries.pointer + first * queryWidth, rows: segment.tokens.count, start: segment.start,
                              sequence: segment.sequence, singleToken: segment.singleTokenAttention,
                              output: attended.pointer + first * queryWidth)
            }, layer: index, hyper: hyper, pool: pool)
            observe("kqv_out", index, attended.pointer, rows: n, width: queryWidth)
            layer.attentionOutput.multiply(attended.pointer, batch: n, into: projected.pointer, pool: pool, arithmetic: products,
                                           order: layerOrder)
            VectorMath.add(projected.pointer, into: x, count: n * embedding)

            // Feed-forward block. After the last attention only the rows whose logits are wanted
            // matter (the KV state is complete): as llama.cpp, the last feed-forward runs on those
            // alone, gathered.
            let last = index == weights.layers.count - 1
            let rows = last ? logitCount : n
            guard rows > 0 else { continue }
            let xr: UnsafeMutablePointer<Float>
            if last {
                xr = tail.pointer
                var out = 0
                for (segment, first) in zip(segments, firstRows) where segment.logitRows > 0 {
                    let from = first + segment.tokens.count - segment.logitRows
                    (xr + out * embedding).update(from: x + from * embedding, count: segment.logitRows * embedding)
                    out += segment.logitRows
                }
            } else {
                xr = x
            }
            let ffnOrder = last ? tailOrder : layerOrder
            observe("ffn_inp", index, xr, rows: rows, width: embedding)   // the rows that go on, as llama.cpp's
            RMSNorm.apply(xr, rows: rows, width: embedding, gain: layer.feedForwardNorm, epsilon: hyper.rmsNormEpsilon, into: xn)
            observe("ffn_norm", index, xn, rows: rows, width: embedding)
            shared.multiply([(layer.gate, gate.pointer), (layer.up, up.pointer)], by: xn, batch: rows, order: ffnOrder,
                            pool: pool)
            VectorMath.swiGLU(gate: gate.pointer, up: up.pointer, rows: rows, width: hidden)
            observe("ffn_swiglu", index, gate.pointer, rows: rows, width: hidden)
            layer.down.multiply(gate.pointer, batch: rows, into: projected.pointer, pool: pool, arithmetic: products,
                                order: ffnOrder)
            observe("ffn_out", index, projected.pointer, rows: rows, width: embedding)
            VectorMath.add(projected.pointer, into: xr, count: rows * embedding)
            observe("l_out", index, xr, rows: rows, width: embedding)
        }

        // Logits of the gathered rows only.
        guard logitCount > 0 else { return segments.map { _ in [] } }
        RMSNorm.apply(tail.pointer, rows: logitCount, width: embedding, gain: weights.outputNorm,
                      epsilon: hyper.rmsNormEpsilon, into: xn)
        observe("result_norm", nil, xn, rows: logitCount, width: embedding)
        let vocabulary = hyper.vocabularySize
        var logits = [Float](repeating: 0, count: logitCount * vocabulary)
        logits.withUnsafeMutableBufferPointer {
            weights.output.multiply(xn, batch: logitCount, into: $0.baseAddress!, pool: pool, arithmetic: products,
                                    order: tailOrder)
            observe("result_output", nil, $0.baseAddress!, rows: logitCount, width: vocabulary)
        }
        var result: [[Float]] = []
        var offset = 0
        for segment in segments {
            result.append(Array(logits[offset * vocabulary..<(offset + segment.logitRows) * vocabulary]))
            offset += segment.logitRows
        }
        return result
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
    /// `order`: see ``ProductOrder``.
    func multiply(_ products: [(matrix: WeightMatrix, output: UnsafeMutablePointer<Float>)], by input: UnsafePointer<Float>,
                  batch: Int, order: ProductOrder, pool: ThreadPool) {
        guard arithmetic == .quantizedActivations else {
            for (matrix, output) in products {
                matrix.multiply(input, batch: batch, into: output, pool: pool, arithmetic: arithmetic, order: order)
            }
            return
        }
        var quantized: Set<ActivationFormat> = []
        for (matrix, output) in products {
            let format = matrix.activationFormat
            guard format != .float else {
                matrix.multiply(input, batch: batch, into: output, pool: pool, kernels: .automatic, order: order)
                continue
            }
            let activations = buffers[format] ?? QuantizedActivations(format: format)
            buffers[format] = activations
            if quantized.insert(format).inserted {
                activations.quantize(input, inputCount: matrix.inputCount, batch: batch, pool: pool)
            }
            matrix.multiply(activations, into: output, pool: pool, order: order)
        }
    }
}
