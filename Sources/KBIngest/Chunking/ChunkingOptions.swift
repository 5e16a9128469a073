/// How documents are cut into chunks.
public struct ChunkingOptions: Sendable, Equatable {
    /// Upper bound on a chunk's tokens. all-MiniLM-L6-v2 reads 256 tokens including [CLS] and [SEP].
    public var maxTokens: Int
    /// Tokens of the previous chunk (whole sentences) repeated at the start of the next one.
    public var overlapTokens: Int

    public static let modelInputLimit = 254

    public init(maxTokens: Int = 240, overlapTokens: Int = 32) {
        self.maxTokens = maxTokens
        self.overlapTokens = overlapTokens
    }

    /// Why the options are unusable, or nil.
    public var validationError: String? {
        if maxTokens < 16 || maxTokens > Self.modelInputLimit {
            return "chunk size must be between 16 and \(Self.modelInputLimit) tokens (got \(maxTokens))"
        }
        if overlapTokens < 0 || overlapTokens >= maxTokens / 2 {
            return "chunk overlap must be between 0 and half the chunk size (got \(overlapTokens))"
        }
        return nil
    }
}
