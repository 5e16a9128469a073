import Foundation

/// The weights of a BERT encoder, copied out of a safetensors file as `Float`.
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

    let wordEmbeddings: Tensor  // [vocabulary, hidden]
    let positionEmbeddings: Tensor  // [maxPositions, hidden]
    let tokenTypeEmbeddings: Tensor  // [tokenTypes, hidden]; kb uses type 0 only
    let embeddingNorm: LayerNorm
    let layers: [Layer]
    /// Owns the memory of every tensor above.
    private let arena: Arena

    /// Reads every tensor the encoder needs, checking each shape against `config`.
    ///
    /// Tensor names are those of Hugging Face `BertModel` (`embeddings.word_embeddings.weight`,
    /// `encoder.layer.0.attention.self.query.weight`, …), with or without a `bert.` prefix.
    /// Other tensors (the pooler, `position_ids`) are ignored.
    ///
    /// - Throws: ``SafeTensorsError`` naming the file and the tensor that is missing, has the
    ///   wrong shape or is not floating point.
    init(file: SafeTensorsFile, config: BertConfig) throws {
        let prefix = file.tensors["embeddings.word_embeddings.weight"] == nil
            && file.tensors["bert.embeddings.word_embeddings.weight"] != nil ? "bert." : ""
        let arena = Arena()  // freed with everything in it if a tensor below fails
        let copy = arena.copy
        func tensor(_ name: String, _ shape: [Int]) throws -> Tensor {
            copy(try file.floats(prefix + name, shape: shape))
        }
        let h = config.hiddenSize, i = config.intermediateSize
        func norm(_ name: String) throws -> LayerNorm {
            LayerNorm(gamma: try tensor(name + ".weight", [h]), beta: try tensor(name + ".bias", [h]))
        }
        wordEmbeddings = try tensor("embeddings.word_embeddings.weight", [config.vocabularySize, h])
        positionEmbeddings = try tensor("embeddings.position_embeddings.weight", [config.maxPositions, h])
        tokenTypeEmbeddings = try tensor("embeddings.token_type_embeddings.weight", [config.tokenTypeCount, h])
        embeddingNorm = try norm("embeddings.LayerNorm")
        layers = try (0..<config.layerCount).map { index in
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
        self.arena = arena
    }

    /// Allocations that live as long as the weights.
    private final class Arena {
        private var buffers: [UnsafeMutableBufferPointer<Float>] = []

        func copy(_ values: [Float]) -> Tensor {
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(values.count, 1))
            _ = buffer.initialize(from: values)
            buffers.append(buffer)
            return UnsafePointer(buffer.baseAddress!)
        }

        deinit {
            for buffer in buffers { buffer.deallocate() }
        }
    }
}
