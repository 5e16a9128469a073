/// Something that extends a token sequence and returns the model's logits for the next token:
/// a model session with its KV cache, or a test double.
public protocol TokenLogitsSource {
    /// Appends `tokens` to the sequence and returns the logits after the last of them,
    /// [vocabulary] floats, one per token id.
    mutating func evaluate(_ tokens: [Int32]) throws -> [Float]
}
