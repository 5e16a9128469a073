/// Why an ``InferenceSession`` could not evaluate tokens.
public enum InferenceError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Nothing to evaluate.
    case emptyInput
    /// The tokens would not fit: the session holds `used` of `capacity` positions and was given `adding` more.
    case contextFull(used: Int, adding: Int, capacity: Int)
    /// A token id outside the vocabulary.
    case invalidToken(Int32, vocabularySize: Int)
    /// More logit rows than tokens evaluated.
    case invalidLogitRows(requested: Int, tokens: Int)
    /// The model's KV pool has too few free blocks for `needed` more tokens (other sequences hold them).
    case kvPoolFull(needed: Int, poolBytes: Int)
    /// The request was cancelled while it waited for the batching engine.
    case cancelled

    public var description: String {
        switch self {
        case .emptyInput: "no tokens to evaluate"
        case .contextFull(let used, let adding, let capacity):
            "context full: \(used) tokens + \(adding) new exceed the context length \(capacity)"
        case .invalidToken(let id, let size): "token id \(id) is outside the vocabulary of \(size) tokens"
        case .invalidLogitRows(let requested, let tokens): "asked for logits of \(requested) positions but evaluated \(tokens) tokens"
        case .kvPoolFull(let needed, let bytes):
            "the KV pool (\(bytes >> 20) MiB) has no room for \(needed) more tokens: other sequences hold its blocks"
        case .cancelled: "cancelled"
        }
    }
}
