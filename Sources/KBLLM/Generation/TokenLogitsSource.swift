/// Something that holds a token sequence and returns the model's logits for the next token:
/// an ``InferenceSession`` (with its KV cache), or a test double.
public protocol TokenLogitsSource {
    /// The most tokens the sequence can hold.
    var contextLength: Int { get }
    /// Makes the sequence exactly `prompt` (reusing what it can) and returns the logits after
    /// it, [vocabulary] floats, one per token id.
    mutating func prefill(_ prompt: [Int32]) throws -> [Float]
    /// Appends `token` and returns the logits after it, [vocabulary].
    mutating func evaluateNext(_ token: Int32) throws -> [Float]
}

extension InferenceSession: TokenLogitsSource {
    /// ``evaluate(_:logitRows:)`` of one token.
    public func evaluateNext(_ token: Int32) throws -> [Float] { try evaluate([token]) }
}
