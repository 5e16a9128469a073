/// What one generation may do.
public struct GenerationOptions: Sendable {
    /// The most tokens to generate (the end-of-generation token is not counted).
    public var maxTokens: Int = 256
    /// How each token is chosen.
    public var sampling: SamplingParameters = SamplingParameters()
    /// Texts that end the generation; the first occurrence and everything after it are dropped.
    public var stopStrings: [String] = []
    /// Tokens the first generated token may not be: their logits are set to −∞ for that one step
    /// (e.g. an answer may not open with a citation marker, or end before it begins).
    public var suppressedFirstTokens: [Int32] = []
    /// Whether the tokenizer adds the model's BOS token before a text prompt (as llama.cpp does).
    public var addSpecialTokens = true

    public init(maxTokens: Int = 256, sampling: SamplingParameters = SamplingParameters(), stopStrings: [String] = []) {
        self.maxTokens = maxTokens
        self.sampling = sampling
        self.stopStrings = stopStrings
    }
}
