import KBEmbedding

/// Counts the embedding model's tokens in a piece of text (special tokens excluded).
public protocol TokenCounting: Sendable {
    func countTokens(_ text: String) -> Int
    /// Names the tokenizer in the chunker signature, so a different tokenizer re-chunks documents.
    var tokenizerName: String { get }
}

extension WordPieceTokenizer: TokenCounting {
    public var tokenizerName: String { "wordpiece-\(vocabularySize)" }
}
