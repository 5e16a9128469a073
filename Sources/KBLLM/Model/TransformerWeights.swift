/// The weights of one transformer block, as llama.cpp names them (`blk.N.*`).
struct TransformerLayerWeights: Sendable {
    /// RMSNorm gain before attention: `embedding` floats.
    let attentionNorm: [Float]
    /// Projections `embedding → queryDimension`, `embedding → kvDimension` (×2), `queryDimension → embedding`.
    let query, key, value, attentionOutput: WeightMatrix
    /// Q/K/V biases (Qwen2), `queryDimension` / `kvDimension` floats, or nil when the file has none.
    let queryBias, keyBias, valueBias: [Float]?
    /// RMSNorm gain before the feed-forward network: `embedding` floats.
    let feedForwardNorm: [Float]
    /// SwiGLU: `embedding → feedForward` (gate, up), `feedForward → embedding` (down).
    let gate, up, down: WeightMatrix
}

/// Every weight of a llama/qwen2 transformer, checked against the hyperparameters.
///
/// Matrices stay quantized in the file's mapping; norms and biases (small, F32 in practice) are
/// decoded once into arrays.
struct TransformerWeights: Sendable {
    /// `token_embd.weight`: `vocabulary` rows of `embedding` weights, any decodable type.
    let tokenEmbedding: GGUFTensor
    /// The blocks, in order.
    let layers: [TransformerLayerWeights]
    /// `output_norm.weight`: `embedding` floats.
    let outputNorm: [Float]
    /// `output.weight`, or the token embedding when the model ties them (no `output.weight`):
    /// `embedding → vocabulary`.
    let output: WeightMatrix
    /// Whether ``output`` is the token embedding.
    let tiedOutput: Bool

    /// Reads and checks the tensors of `file` for the model `hyper` describes.
    /// - Throws: ``ModelError`` naming the file and the tensor that is missing, misshapen or undecodable.
    init(file: GGUFFile, hyper: ModelHyperparameters) throws {
        let path = file.path
        let embedding = hyper.embeddingLength
        func tensor(_ name: String, shape: [Int]) throws -> GGUFTensor {
            guard let info = file.tensorInfo(named: name) else {
                throw ModelError(file: path, problem: .missingTensor(name))
            }
            guard info.shape == shape else {
                throw ModelError(file: path, problem: .tensorShape(tensor: name, expected: shape, found: info.shape))
            }
            guard info.type.canDequantize else {
                throw ModelError(file: path, problem: .unsupportedTensorType(tensor: name, type: info.type.name))
            }
            return try file.tensor(info)
        }
        func matrix(_ name: String, inputs: Int, outputs: Int) throws -> WeightMatrix {
            try WeightMatrix(tensor(name, shape: [inputs, outputs]), file: path)
        }
        func vector(_ name: String, count: Int) throws -> [Float] {
            try tensor(name, shape: [count]).dequantize()
        }
        func optionalVector(_ name: String, count: Int) throws -> [Float]? {
            file.tensorInfo(named: name) == nil ? nil : try vector(name, count: count)
        }

        tokenEmbedding = try tensor("token_embd.weight", shape: [embedding, hyper.vocabularySize])
        var layers: [TransformerLayerWeights] = []
        layers.reserveCapacity(hyper.layerCount)
        for index in 0..<hyper.layerCount {
            let p = "blk.\(index)."
            layers.append(TransformerLayerWeights(
                attentionNorm: try vector(p + "attn_norm.weight", count: embedding),
                query: try matrix(p + "attn_q.weight", inputs: embedding, outputs: hyper.queryDimension),
                key: try matrix(p + "attn_k.weight", inputs: embedding, outputs: hyper.kvDimension),
                value: try matrix(p + "attn_v.weight", inputs: embedding, outputs: hyper.kvDimension),
                attentionOutput: try matrix(p + "attn_output.weight", inputs: hyper.queryDimension, outputs: embedding),
                queryBias: try optionalVector(p + "attn_q.bias", count: hyper.queryDimension),
                keyBias: try optionalVector(p + "attn_k.bias", count: hyper.kvDimension),
                valueBias: try optionalVector(p + "attn_v.bias", count: hyper.kvDimension),
                feedForwardNorm: try vector(p + "ffn_norm.weight", count: embedding),
                gate: try matrix(p + "ffn_gate.weight", inputs: embedding, outputs: hyper.feedForwardLength),
                up: try matrix(p + "ffn_up.weight", inputs: embedding, outputs: hyper.feedForwardLength),
                down: try matrix(p + "ffn_down.weight", inputs: hyper.feedForwardLength, outputs: embedding)
            ))
        }
        self.layers = layers
        outputNorm = try vector("output_norm.weight", count: embedding)
        if file.tensorInfo(named: "output.weight") != nil {
            output = try matrix("output.weight", inputs: embedding, outputs: hyper.vocabularySize)
            tiedOutput = false
        } else {
            output = try WeightMatrix(tokenEmbedding, file: path)
            tiedOutput = true
        }
    }
}
