/// How documents are cut into chunks.
public struct ChunkingOptions: Sendable, Equatable {
    /// Upper bound on a chunk's tokens. all-MiniLM-L6-v2 reads 256 tokens including [CLS] and [SEP].
    public var maxTokens: Int
    /// Tokens of the previous chunk (whole sentences) repeated at the start of the next one.
    public var overlapTokens: Int

    /// all-MiniLM-L6-v2's limit (256 less `[CLS]` and `[SEP]`); each counter names its own
    /// (``TokenCounting/chunkTokenLimit``).
    public static let modelInputLimit = 254

    public init(maxTokens: Int = 240, overlapTokens: Int = 32) {
        self.maxTokens = maxTokens
        self.overlapTokens = overlapTokens
    }

    /// Why the options are unusable with all-MiniLM-L6-v2's limit, or nil.
    public var validationError: String? { validationError(limit: Self.modelInputLimit) }

    /// Why the options are unusable for a model that reads `limit` tokens of a chunk, or nil.
    public func validationError(limit: Int) -> String? {
        if maxTokens < 16 || maxTokens > limit {
            return "chunk size must be between 16 and \(limit) tokens (got \(maxTokens))"
        }
        if overlapTokens < 0 || overlapTokens >= maxTokens / 2 {
            return "chunk overlap must be between 0 and half the chunk size (got \(overlapTokens))"
        }
        return nil
    }
}
