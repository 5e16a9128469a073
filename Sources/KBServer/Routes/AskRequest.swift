import Foundation
import KBSearch

/// The body of `POST /v1/ask`.
struct AskRequest: Decodable, Sendable {
    var question: String
    var history: [HistoryMessage]?
    var filters: SearchRequest.Filters?
    var mode: String?
    var topK: Int?
    var stream: Bool?
    var maxTokens: Int?
    var temperature: Double?
    var seed: UInt64?

    struct HistoryMessage: Decodable, Sendable {
        var role: String
        var content: String
    }

    enum CodingKeys: String, CodingKey {
        case question, history, filters, mode, topK = "top_k", stream, maxTokens = "max_tokens", temperature, seed
    }

    /// The history as prompt messages; only `user` and `assistant` turns are accepted.
    func historyMessages() throws -> [PromptMessage] {
        try (history ?? []).enumerated().map { index, message in
            guard let role = PromptMessage.Role(rawValue: message.role), role != .system else {
                throw APIError.badRequest("invalid_field",
                                          "field 'history[\(index)].role' must be \"user\" or \"assistant\" (got \"\(message.role)\")")
            }
            return PromptMessage(role, message.content)
        }
    }
}

/// Validates the sampling fields shared by `/v1/ask` and `/v1/chat/completions`.
func generationParameters(maxTokens: Int?, temperature: Double?, topP: Double? = nil, seed: UInt64?,
                          defaultMaxTokens: Int) throws -> GenerationParameters {
    let tokens = maxTokens ?? defaultMaxTokens
    guard (1...8192).contains(tokens) else {
        throw APIError.badRequest("invalid_field", "field 'max_tokens' must be between 1 and 8192 (got \(tokens))")
    }
    let temperature = temperature ?? 0
    guard temperature.isFinite, (0...2).contains(temperature) else {
        throw APIError.badRequest("invalid_field", "field 'temperature' must be between 0 and 2 (got \(temperature))")
    }
    let topP = topP ?? 1
    guard topP.isFinite, topP > 0, topP <= 1 else {
        throw APIError.badRequest("invalid_field", "field 'top_p' must be in (0, 1] (got \(topP))")
    }
    return GenerationParameters(maxTokens: tokens, temperature: temperature, topP: topP, seed: seed)
}

/// The non-streaming answer of `POST /v1/ask`.
struct AskResponse: Encodable, Sendable {
    var answer: String
    var citedAnswer: String
    var citations: [Citation]
    var sources: [Citation]
    var sentences: [AttributedSentence]
    var grounded: Bool
    var finishReason: String
    var usage: GenerationUsage
    var model: String

    enum CodingKeys: String, CodingKey {
        case answer, citedAnswer = "cited_answer", citations, sources, sentences, grounded
        case finishReason = "finish_reason", usage, model
    }
}

/// Streaming events of `/v1/ask` after the tokens: the whole answer's citations and grounding.
struct AskCitationsEvent: Encodable, Sendable {
    var citations: [Citation]
    var sources: [Citation]
    var sentences: [AttributedSentence]
    var grounded: Bool
    var citedAnswer: String

    enum CodingKeys: String, CodingKey {
        case citations, sources, sentences, grounded, citedAnswer = "cited_answer"
    }
}

struct AskUsageEvent: Encodable, Sendable {
    var finishReason: String
    var usage: GenerationUsage
    var model: String

    enum CodingKeys: String, CodingKey {
        case finishReason = "finish_reason", usage, model
    }
}

struct AskTokenEvent: Encodable, Sendable {
    var text: String
}
