/// The shape of a transformer, read from a GGUF file's metadata (never hard-coded per file).
///
/// Keys are prefixed by the architecture (`qwen2.block_count`); optional keys fall back to
/// llama.cpp's defaults: `attention.key_length` = embedding / heads, `rope.dimension_count` =
/// head dimension, `rope.freq_base` = 10,000, `vocab_size` = the tokenizer's token count.
public struct ModelHyperparameters: Sendable, Equatable {
    /// The architecture (`general.architecture`).
    public let architecture: ModelArchitecture
    /// Transformer blocks (`block_count`).
    public let layerCount: Int
    /// The width of the residual stream (`embedding_length`).
    public let embeddingLength: Int
    /// The hidden width of the feed-forward network (`feed_forward_length`).
    public let feedForwardLength: Int
    /// Query heads (`attention.head_count`).
    public let headCount: Int
    /// Key/value heads (`attention.head_count_kv`); fewer than ``headCount`` means grouped-query
    /// attention, each KV head serving `headCount / kvHeadCount` query heads.
    public let kvHeadCount: Int
    /// The width of one head (`attention.key_length`).
    public let headDimension: Int
    /// How many leading dimensions of each head RoPE rotates (`rope.dimension_count`).
    public let ropeDimension: Int
    /// The RoPE base frequency θ (`rope.freq_base`).
    public let ropeFrequencyBase: Float
    /// How RoPE pairs dimensions (from the architecture).
    public let ropeStyle: RopeStyle
    /// The RMSNorm epsilon (`attention.layer_norm_rms_epsilon`).
    public let rmsNormEpsilon: Float
    /// The context length the model was trained for (`context_length`).
    public let trainedContextLength: Int
    /// Rows of the token embedding and of the logits.
    public let vocabularySize: Int

    /// The width of all query heads together.
    public var queryDimension: Int { headCount * headDimension }
    /// The width of all key (or value) heads together: one row of the KV cache per layer.
    public var kvDimension: Int { kvHeadCount * headDimension }
    /// Query heads per KV head.
    public var groupSize: Int { headCount / kvHeadCount }

    /// Reads the hyperparameters of the model in `metadata`.
    /// - Parameter tokenCount: the tokenizer's vocabulary size, used when `{arch}.vocab_size` is absent.
    /// - Throws: ``ModelError`` for an unsupported architecture or an inconsistent value;
    ///   ``GGUFError`` for a missing or mistyped required key.
    public init(metadata: GGUFMetadata, tokenCount: Int? = nil) throws {
        let file = metadata.file
        let name = try metadata.architecture
        guard let architecture = ModelArchitecture(rawValue: name) else {
            throw ModelError(file: file, problem: .unsupportedArchitecture(name))
        }
        func key(_ suffix: String) -> String { "\(name).\(suffix)" }
        func positive(_ suffix: String, default value: Int? = nil) throws -> Int {
            let k = key(suffix)
            let v = try value.map { try metadata.int(k, default: $0) } ?? metadata.int(k)
            guard v > 0 else { throw ModelError(file: file, problem: .invalidHyperparameter(key: k, reason: "\(v) is not positive")) }
            return v
        }
        self.architecture = architecture
        layerCount = try positive("block_count")
        embeddingLength = try positive("embedding_length")
        feedForwardLength = try positive("feed_forward_length")
        headCount = try positive("attention.head_count")
        kvHeadCount = try positive("attention.head_count_kv", default: headCount)
        guard headCount % kvHeadCount == 0 else {
            throw ModelError(file: file, problem: .invalidHyperparameter(
                key: key("attention.head_count_kv"), reason: "\(kvHeadCount) does not divide head_count \(headCount)"))
        }
        guard metadata.contains(key("attention.key_length")) || embeddingLength % headCount == 0 else {
            throw ModelError(file: file, problem: .invalidHyperparameter(
                key: key("attention.head_count"), reason: "\(headCount) does not divide embedding_length \(embeddingLength)"))
        }
        headDimension = try positive("attention.key_length", default: embeddingLength / headCount)
        let valueLength = try positive("attention.value_length", default: headDimension)
        guard valueLength == headDimension else {
            throw ModelError(file: file, problem: .invalidHyperparameter(
                key: key("attention.value_length"), reason: "\(valueLength) differs from key_length \(headDimension)"))
        }
        ropeDimension = try positive("rope.dimension_count", default: headDimension)
        guard ropeDimension % 2 == 0, ropeDimension <= headDimension else {
            throw ModelError(file: file, problem: .invalidHyperparameter(
                key: key("rope.dimension_count"), reason: "\(ropeDimension) must be even and at most the head dimension \(headDimension)"))
        }
        ropeFrequencyBase = try metadata.float(key("rope.freq_base"), default: 10_000)
        guard ropeFrequencyBase > 0, ropeFrequencyBase.isFinite else {
            throw ModelError(file: file, problem: .invalidHyperparameter(key: key("rope.freq_base"), reason: "\(ropeFrequencyBase) is not a positive number"))
        }
        ropeStyle = architecture.ropeStyle
        rmsNormEpsilon = try metadata.float(key("attention.layer_norm_rms_epsilon"))
        guard rmsNormEpsilon > 0, rmsNormEpsilon.isFinite else {
            throw ModelError(file: file, problem: .invalidHyperparameter(key: key("attention.layer_norm_rms_epsilon"), reason: "\(rmsNormEpsilon) is not a positive number"))
        }
        trainedContextLength = try positive("context_length")
        if metadata.contains(key("vocab_size")) {
            vocabularySize = try positive("vocab_size")
        } else if let tokenCount, tokenCount > 0 {
            vocabularySize = tokenCount
        } else {
            vocabularySize = try metadata.array("tokenizer.ggml.tokens").count
        }
    }
}
