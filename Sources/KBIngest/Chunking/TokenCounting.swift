import KBEmbedding

/// Counts the embedding model's tokens in a piece of text (special tokens excluded), so chunks are
/// measured with the tokenizer of the model that embeds them.
public protocol TokenCounting: Sendable {
    func countTokens(_ text: String) -> Int
    /// Names the tokenizer in the chunker signature, so a different tokenizer re-chunks documents.
    var tokenizerName: String { get }
    /// The most tokens a chunk may have so the model reads all of it (its input limit less special
    /// tokens and any prefix the model adds).
    var chunkTokenLimit: Int { get }
}

extension WordPieceTokenizer: TokenCounting {
    public var tokenizerName: String { "wordpiece-\(vocabularySize)" }
    /// all-MiniLM-L6-v2 reads 256 tokens including `[CLS]` and `[SEP]`.
    public var chunkTokenLimit: Int { ChunkingOptions.modelInputLimit }
}

/// multilingual-e5-small's SentencePiece pieces; the limit leaves room for `<s>`, `</s>` and `passage: `.
extension MultilingualE5Embedder: TokenCounting {
    public func countTokens(_ text: String) -> Int { pieceCount(text) }
    public var chunkTokenLimit: Int { passagePieceLimit }
}

/// Chooses the token counter of an embedding model.
public enum TokenCounters {
    /// The counter that measures chunks for `embedder`: the model's own tokenizer
    /// (``MiniLMEmbedder``, ``MultilingualE5Embedder``), or nil for a model kb cannot count for.
    public static func counter(for embedder: any Embedder) -> (any TokenCounting)? {
        switch embedder {
        case let counting as any TokenCounting: return counting
        case let miniLM as MiniLMEmbedder: return miniLM.tokenizer
        default: return nil
        }
    }
}
