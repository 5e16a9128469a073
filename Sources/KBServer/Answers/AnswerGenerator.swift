import KBLLM
/// One message of a chat prompt.
public struct PromptMessage: Sendable, Equatable, Codable {
    public enum Role: String, Sendable, Codable {
        case system, user, assistant
    }

    public var role: Role
    public var content: String

    public init(_ role: Role, _ content: String) {
        self.role = role
        self.content = content
    }
}

/// How to sample an answer.
public struct GenerationParameters: Sendable, Equatable {
    /// Stop after this many generated tokens (finish reason ``GenerationOutcome/FinishReason/length``).
    public var maxTokens: Int
    /// 0 is greedy.
    public var temperature: Double
    public var topP: Double
    /// A seed for reproducible sampling, if the caller gave one.
    public var seed: UInt64?

    public init(maxTokens: Int, temperature: Double = 0, topP: Double = 1, seed: UInt64? = nil) {
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topP = topP
        self.seed = seed
    }
}

/// Token counts of one generation.
public struct GenerationUsage: Sendable, Equatable, Codable {
    public var promptTokens: Int
    public var completionTokens: Int
    /// Prompt tokens whose keys and values came from the engine's prefix cache instead of being computed.
    public var cachedPromptTokens: Int

    public init(promptTokens: Int, completionTokens: Int, cachedPromptTokens: Int = 0) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.cachedPromptTokens = cachedPromptTokens
    }

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens", completionTokens = "completion_tokens"
        case cachedPromptTokens = "cached_prompt_tokens"
    }
}

/// What a finished generation reports to the server, whichever engine ran it.
public struct GenerationOutcome: Sendable, Equatable {
    /// Why generation ended, with the names OpenAI's `finish_reason` uses.
    public enum FinishReason: String, Sendable, Codable {
        /// The model ended its turn (or a stop string was produced).
        case stop
        /// ``GenerationParameters/maxTokens`` was reached.
        case length
    }

    public var finishReason: FinishReason
    public var usage: GenerationUsage

    public init(finishReason: FinishReason, usage: GenerationUsage) {
        self.finishReason = finishReason
        self.usage = usage
    }
}

/// A conversation made ready for one engine before a generation slot is taken: the messages, and
/// (for the local engine) their token ids, already checked against the model's context.
public struct PreparedPrompt: Sendable {
    public var messages: [PromptMessage]
    /// The prompt's token ids, for an engine that tokenizes itself; nil for one that takes messages.
    public var tokens: [Int32]?

    public init(messages: [PromptMessage], tokens: [Int32]? = nil) {
        self.messages = messages
        self.tokens = tokens
    }
}

/// The server's view of a language model: chat messages in, text pieces out as they are produced.
///
/// The server knows nothing else about the engine; the local GGUF engine (KBLLM) is wired in
/// behind this protocol by the command line, and tests use a deterministic double.
///
/// Contract:
/// - ``prepare(_:)`` runs before a generation slot is taken (an over-long prompt is refused
///   without waiting for one); ``generate(_:parameters:onText:)`` gets what it returned.
/// - `onText` receives the answer in order, in pieces of any size (usually one token's text).
/// - When `onText` throws (the client went away), generation stops at once and the error is rethrown.
/// - When the calling task is cancelled, generation stops at the next token and throws `CancellationError`.
/// - Implementations may be called concurrently; the server bounds how many run at once
///   (``GenerationQueue``).
public protocol AnswerGenerator: Sendable {
    /// The model name shown in `GET /v1/models` and in answers.
    var modelID: String { get }

    /// Lays out and checks the prompt of `messages` (e.g. tokenizes it and checks the context length).
    /// - Throws: ``APIError`` (400) when the prompt cannot be answered, e.g. it is longer than the context.
    func prepare(_ messages: [PromptMessage]) throws -> PreparedPrompt

    /// Generates the assistant's reply to a prompt from ``prepare(_:)``.
    func generate(_ prompt: PreparedPrompt, parameters: GenerationParameters,
                  onText: @Sendable (String) async throws -> Void) async throws -> GenerationOutcome

    /// The batching engine's and KV pool's counters, for `/metrics` (nil for engines without them).
    var engineStatistics: (batch: BatchStatistics, pool: KVPoolStatistics)? { get }
}

extension AnswerGenerator {
    public var engineStatistics: (batch: BatchStatistics, pool: KVPoolStatistics)? { nil }

    /// Engines that take messages as they are need no preparation.
    public func prepare(_ messages: [PromptMessage]) throws -> PreparedPrompt {
        PreparedPrompt(messages: messages)
    }
}
