import Foundation

/// The body of `POST /v1/chat/completions`, as OpenAI's API defines it (the fields kb uses; others
/// are accepted and ignored).
struct ChatCompletionRequest: Decodable, Sendable {
    var model: String?
    var messages: [Message]
    var stream: Bool?
    var maxTokens: Int?
    var maxCompletionTokens: Int?
    var temperature: Double?
    var topP: Double?
    var seed: UInt64?
    var n: Int?

    struct Message: Decodable, Sendable {
        var role: String
        var content: MessageContent?
    }

    enum CodingKeys: String, CodingKey {
        case model, messages, stream, maxTokens = "max_tokens", maxCompletionTokens = "max_completion_tokens"
        case temperature, topP = "top_p", seed, n
    }
}

/// A message's content: a string, or an array of parts of which the `text` ones are used.
struct MessageContent: Decodable, Sendable {
    var text: String

    struct Part: Decodable {
        var type: String
        var text: String?
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let string = try? container.decode(String.self) {
            text = string
        } else if let parts = try? container.decode([Part].self) {
            text = parts.filter { $0.type == "text" }.compactMap(\.text).joined(separator: "\n")
        } else {
            throw DecodingError.typeMismatch(String.self, .init(codingPath: decoder.codingPath,
                                                                debugDescription: "expected a string or an array of content parts"))
        }
    }
}

/// `chat.completion` (non-streaming).
struct ChatCompletion: Encodable, Sendable {
    struct Choice: Encodable, Sendable {
        var index: Int
        var message: ResponseMessage
        var finishReason: String

        enum CodingKeys: String, CodingKey { case index, message, finishReason = "finish_reason" }
    }

    struct ResponseMessage: Encodable, Sendable {
        var role: String
        var content: String
    }

    var id: String
    var object = "chat.completion"
    var created: Int
    var model: String
    var choices: [Choice]
    var usage: ChatUsage
    /// kb's extension: the sources the answer cites, with exact document spans.
    var citations: [Citation]
    /// kb's extension: whether sources support the answer (``AnswerGrounding/grounded``).
    var grounded: Bool
}

struct ChatUsage: Encodable, Sendable {
    var promptTokens: Int
    var completionTokens: Int
    var totalTokens: Int
    var promptTokensDetails: Details

    struct Details: Encodable, Sendable {
        var cachedTokens: Int
        enum CodingKeys: String, CodingKey { case cachedTokens = "cached_tokens" }
    }

    init(_ usage: GenerationUsage) {
        promptTokens = usage.promptTokens
        completionTokens = usage.completionTokens
        totalTokens = usage.promptTokens + usage.completionTokens
        promptTokensDetails = Details(cachedTokens: usage.cachedPromptTokens)
    }

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens", completionTokens = "completion_tokens", totalTokens = "total_tokens"
        case promptTokensDetails = "prompt_tokens_details"
    }
}

/// `chat.completion.chunk` (streaming).
struct ChatCompletionChunk: Encodable, Sendable {
    struct Choice: Encodable, Sendable {
        var index: Int
        var delta: Delta
        var finishReason: String?

        enum CodingKeys: String, CodingKey { case index, delta, finishReason = "finish_reason" }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(index, forKey: .index)
            try container.encode(delta, forKey: .delta)
            try container.encode(finishReason, forKey: .finishReason)   // null until the last chunk
        }
    }

    struct Delta: Encodable, Sendable {
        var role: String?
        var content: String?
    }

    var id: String
    var object = "chat.completion.chunk"
    var created: Int
    var model: String
    var choices: [Choice]
    var usage: ChatUsage?
    var citations: [Citation]?
    /// On the last chunk, with `citations`.
    var grounded: Bool?
}

/// `GET /v1/models`.
struct ModelList: Encodable, Sendable {
    struct Model: Encodable, Sendable {
        var id: String
        var object = "model"
        var created: Int
        var ownedBy = "kb"
        enum CodingKeys: String, CodingKey { case id, object, created, ownedBy = "owned_by" }
    }

    var object = "list"
    var data: [Model]
}
