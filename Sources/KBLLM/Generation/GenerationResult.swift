/// Why a generation ended.
public enum FinishReason: String, Sendable, Codable {
    /// An end-of-generation token or a stop string.
    case stop
    /// ``GenerationOptions/maxTokens`` reached, or the context is full.
    case length
    /// The caller cancelled (``CancellationFlag`` or task cancellation).
    case cancelled
}

/// Where the time of one generation went.
public struct GenerationTimings: Sendable, Equatable, Codable {
    /// Tokens in the prompt.
    public var promptTokens = 0
    /// Evaluating the prompt, in milliseconds.
    public var promptMilliseconds = 0.0
    /// Tokens generated (sampled), the end-of-generation token included.
    public var generatedTokens = 0
    /// From the first generated token to the last, in milliseconds: the evaluations of all
    /// generated tokens but the last, and the sampling.
    public var generationMilliseconds = 0.0
    /// From the start of the generation (tokenizing included) to the first generated token.
    public var timeToFirstTokenMilliseconds = 0.0

    /// Prompt processing speed.
    public var promptTokensPerSecond: Double {
        promptMilliseconds > 0 ? Double(promptTokens) / promptMilliseconds * 1000 : 0
    }

    /// Generation speed: the tokens after the first over the time after the first.
    public var generationTokensPerSecond: Double {
        generationMilliseconds > 0 ? Double(generatedTokens - 1) / generationMilliseconds * 1000 : 0
    }

    public init() {}
}

/// The outcome of one generation.
public struct GenerationResult: Sendable {
    /// The generated text (stop string and end-of-generation token not included).
    public var text: String
    /// The generated token ids (the end-of-generation token not included).
    public var tokens: [Int32]
    /// Why it ended.
    public var finishReason: FinishReason
    /// Time spent.
    public var timings: GenerationTimings
}
