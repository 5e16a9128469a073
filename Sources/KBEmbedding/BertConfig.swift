import Foundation

/// The hyperparameters of a BERT encoder, read from a Hugging Face `config.json`.
public struct BertConfig: Sendable, Equatable, Decodable {
    public let vocabularySize: Int
    public let hiddenSize: Int
    public let layerCount: Int
    public let headCount: Int
    public let intermediateSize: Int
    public let maxPositions: Int
    public let tokenTypeCount: Int
    public let layerNormEpsilon: Float
    /// The FFN activation; only `"gelu"` (exact, with erf) is implemented.
    public let hiddenActivation: String
    /// Only `"absolute"` position embeddings are implemented.
    public let positionEmbeddingType: String

    /// Size of one attention head: hidden size / heads.
    public var headSize: Int { hiddenSize / headCount }

    enum CodingKeys: String, CodingKey {
        case vocabularySize = "vocab_size", hiddenSize = "hidden_size", layerCount = "num_hidden_layers"
        case headCount = "num_attention_heads", intermediateSize = "intermediate_size"
        case maxPositions = "max_position_embeddings", tokenTypeCount = "type_vocab_size"
        case layerNormEpsilon = "layer_norm_eps", hiddenActivation = "hidden_act"
        case positionEmbeddingType = "position_embedding_type"
    }

    /// A configuration given field by field (the `E5S1` header), with exact GELU and absolute positions.
    init(vocabularySize: Int, hiddenSize: Int, layerCount: Int, headCount: Int, intermediateSize: Int,
         maxPositions: Int, tokenTypeCount: Int, layerNormEpsilon: Float) {
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.intermediateSize = intermediateSize
        self.maxPositions = maxPositions
        self.tokenTypeCount = tokenTypeCount
        self.layerNormEpsilon = layerNormEpsilon
        hiddenActivation = "gelu"
        positionEmbeddingType = "absolute"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabularySize = try c.decode(Int.self, forKey: .vocabularySize)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        layerCount = try c.decode(Int.self, forKey: .layerCount)
        headCount = try c.decode(Int.self, forKey: .headCount)
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        maxPositions = try c.decode(Int.self, forKey: .maxPositions)
        tokenTypeCount = try c.decodeIfPresent(Int.self, forKey: .tokenTypeCount) ?? 2
        layerNormEpsilon = try c.decodeIfPresent(Float.self, forKey: .layerNormEpsilon) ?? 1e-12
        hiddenActivation = try c.decodeIfPresent(String.self, forKey: .hiddenActivation) ?? "gelu"
        positionEmbeddingType = try c.decodeIfPresent(String.self, forKey: .positionEmbeddingType) ?? "absolute"
    }

    /// Reads and checks `config.json`.
    ///
    /// - Throws: ``EmbeddingModelError`` naming the file when it is missing, not valid JSON, lacks a
    ///   field, or describes an architecture this encoder does not implement.
    public static func load(from file: URL) throws -> BertConfig {
        guard FileManager.default.fileExists(atPath: file.path) else { throw EmbeddingModelError.missingFile(file) }
        let config: BertConfig
        do {
            config = try JSONDecoder().decode(BertConfig.self, from: Data(contentsOf: file))
        } catch {
            throw EmbeddingModelError.badConfig(file: file, reason: "\(error)")
        }
        let sizes = [config.vocabularySize, config.hiddenSize, config.layerCount, config.headCount,
                     config.intermediateSize, config.maxPositions, config.tokenTypeCount]
        guard sizes.allSatisfy({ $0 > 0 }), config.hiddenSize % config.headCount == 0 else {
            throw EmbeddingModelError.badConfig(file: file, reason: "sizes must be positive and hidden_size divisible by heads")
        }
        guard config.hiddenActivation == "gelu" else {
            throw EmbeddingModelError.unsupported(file: file, reason: "hidden_act \(config.hiddenActivation)")
        }
        guard config.positionEmbeddingType == "absolute" else {
            throw EmbeddingModelError.unsupported(file: file, reason: "position_embedding_type \(config.positionEmbeddingType)")
        }
        return config
    }
}
