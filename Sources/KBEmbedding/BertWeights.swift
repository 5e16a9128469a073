import Foundation
import KBSupport

/// The weights of a BERT encoder as `Float` (from a safetensors file, or dequantized from an
/// `E5S1` file, see `BertWeights+E5.swift`).
///
/// Linear layers keep PyTorch's layout, `[out, in]` row-major, used as `y = x·Wᵀ + b`. The three
/// attention projections are stacked into one `[3·hidden, hidden]` matrix so that one matrix
/// product yields Q, K and V for the whole batch.
///
/// Every tensor lives in memory this object allocates and frees, so the forward pass reads plain
/// pointers (immutable after init, hence Sendable).
final class BertWeights: @unchecked Sendable {
    typealias Tensor = UnsafePointer<Float>

    /// Scale and shift of a LayerNorm.
    struct LayerNorm {
        let gamma: Tensor  // [hidden]
        let beta: Tensor  // [hidden]
    }

    /// One transformer layer.
    struct Layer {
        let qkvWeight: Tensor  // [3·hidden, hidden]: query rows, then key rows, then value rows
        let qkvBias: Tensor  // [3·hidden]
        let attentionOutputWeight: Tensor  // [hidden, hidden]
        let attentionOutputBias: Tensor  // [hidden]
        let attentionNorm: LayerNorm
        let intermediateWeight: Tensor  // [intermediate, hidden]
        let intermediateBias: Tensor  // [intermediate]
        let outputWeight: Tensor  // [hidden, intermediate]
        let outputBias: Tensor  // [hidden]
        let outputNorm: LayerNorm
    }

    /// The rows of the token (word) embedding matrix: float32, or 4-bit blocks dequantized one
    /// looked-up row at a time (multilingual-e5's 250k-row table stays 54 MB instead of 384 MB).
    enum TokenEmbeddings {
        case float32(Tensor)  // [vocabulary, hidden]
        case q4_0(UnsafeRawPointer)  // [vocabulary, hidden / 32] Q4_0 blocks (Q4_0Layout)

        /// Writes row `id` (`count` = hidden floats) to `output`.
        func row(_ id: Int, count: Int, into output: UnsafeMutablePointer<Float>) {
            switch self {
            case let .float32(table):
                output.update(from: table + id * count, count: count)
            case let .q4_0(blocks):
                Q4_0Layout.dequantize(blocks: blocks + id * (count / Q4_0Layout.weightsPerBlock) * Q4_0Layout.byteCount,
                                     count: count, into: output)
            }
        }
    }

    let wordEmbeddings: TokenEmbeddings
    let positionEmbeddings: Tensor  // [maxPositions, hidden]: row p for the token at position p
    let tokenTypeEmbeddings: Tensor  // [tokenTypes, hidden]; kb uses type 0 only
    let embeddingNorm: LayerNorm
    let layers: [Layer]
    /// Owns the memory of every tensor above.
    private let arena: TensorArena

    /// Weights already in memory that `arena` owns.
    init(wordEmbeddings: TokenEmbeddings, positionEmbeddings: Tensor, tokenTypeEmbeddings: Tensor,
         embeddingNorm: LayerNorm, layers: [Layer], arena: TensorArena) {
        self.wordEmbeddings = wordEmbeddings
        self.positionEmbeddings = positionEmbeddings
        self.tokenTypeEmbeddings = tokenTypeEmbeddings
        self.embeddingNorm = embeddingNorm
        self.layers = layers
        self.arena = arena
    }

    /// Reads every tensor the encoder needs, checking each shape against `config`.
    ///
    /// Tensor names are those of Hugging Face `BertModel` (`embeddings.word_embeddings.weight`,
    /// `encoder.layer.0.attention.self.query.weight`, …), with or without a `bert.` prefix.
    /// Other tensors (the pooler, `position_ids`) are ignored.
    ///
    /// - Throws: ``SafeTensorsError`` naming the file and the tensor that is missing, has the
    ///   wrong shape or is not floating point.
    convenience init(file: SafeTensorsFile, config: BertConfig) throws {
        let prefix = file.tensors["embeddings.word_embeddings.weight"] == nil
            && file.tensors["bert.embeddings.word_embeddings.weight"] != nil ? "bert." : ""
        let arena = TensorArena()  // freed with everything in it if a tensor below fails
        let copy: ([Float]) -> Tensor = arena.copy
        func tensor(_ name: String, _ shape: [Int]) throws -> Tensor {
            copy(try file.floats(prefix + name, shape: shape))
        }
        let h = config.hiddenSize, i = config.intermediateSize
        func norm(_ name: String) throws -> LayerNorm {
            LayerNorm(gamma: try tensor(name + ".weight", [h]), beta: try tensor(name + ".bias", [h]))
        }
        let layers = try (0..<config.layerCount).map { index in
            let p = "encoder.layer.\(index)."
            let projections = ["query", "key", "value"]
            return Layer(
                qkvWeight: copy(try projections.flatMap { try file.floats(prefix + p + "attention.self.\($0).weight", shape: [h, h]) }),
                qkvBias: copy(try projections.flatMap { try file.floats(prefix + p + "attention.self.\($0).bias", shape: [h]) }),
                attentionOutputWeight: try tensor(p + "attention.output.dense.weight", [h, h]),
                attentionOutputBias: try tensor(p + "attention.output.dense.bias", [h]),
                attentionNorm: try norm(p + "attention.output.LayerNorm"),
                intermediateWeight: try tensor(p + "intermediate.dense.weight", [i, h]),
                intermediateBias: try tensor(p + "intermediate.dense.bias", [i]),
                outputWeight: try tensor(p + "output.dense.weight", [h, i]),
                outputBias: try tensor(p + "output.dense.bias", [h]),
                outputNorm: try norm(p + "output.LayerNorm"))
        }
        self.init(
            wordEmbeddings: .float32(try tensor("embeddings.word_embeddings.weight", [config.vocabularySize, h])),
            positionEmbeddings: try tensor("embeddings.position_embeddings.weight", [config.maxPositions, h]),
            tokenTypeEmbeddings: try tensor("embeddings.token_type_embeddings.weight", [config.tokenTypeCount, h]),
            embeddingNorm: try norm("embeddings.LayerNorm"), layers: layers, arena: arena)
    }
}

/// Allocations that live as long as the weights.
final class TensorArena {
    private var buffers: [UnsafeMutableRawBufferPointer] = []

    func copy(_ values: [Float]) -> UnsafePointer<Float> {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(values.count, 1) * 4, alignment: 64)
        buffers.append(buffer)
        values.withUnsafeBytes { buffer.copyMemory(from: $0) }
        return UnsafePointer(buffer.baseAddress!.assumingMemoryBound(to: Float.self))
    }

    func copy(_ bytes: [UInt8]) -> UnsafeRawPointer {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        buffers.append(buffer)
        bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
        return UnsafeRawPointer(buffer.baseAddress!)
    }

    deinit {
        for buffer in buffers { buffer.deallocate() }
    }
}
