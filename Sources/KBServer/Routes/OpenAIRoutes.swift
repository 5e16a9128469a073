import Foundation
import Hummingbird
import KBSearch
import Logging

extension KnowledgeServer {
    /// `POST /v1/chat/completions` and `GET /v1/models`, compatible with OpenAI's API: the last user
    /// message is the question, earlier turns are history, and the answer is grounded in the
    /// knowledge base with its citations in the extension field `citations` (on the response, or
    /// on the last chunk when streaming).
    func addOpenAIRoutes(_ router: some RouterMethods<KBRequestContext>) {
        let created = Int(Date().timeIntervalSince1970)
        router.get("/v1/models") { [self] _, _ in
            let generator = try answers.requireGenerator()
            return JSONBody.response(ModelList(data: [.init(id: generator.modelID, created: created)]))
        }
        router.post("/v1/chat/completions") { [self] request, context in
            try await whileConnected(request) { [self] body in
                try await chatCompletion(body, logger: context.logger)
            }
        }
    }

    private func chatCompletion(_ body: ByteBuffer, logger: Logger) async throws -> Response {
        let requestStarted = ContinuousClock.now
        let chat = try JSONBody.decode(ChatCompletionRequest.self, from: body)
        let generator = try answers.requireGenerator()
        if let model = chat.model, model != generator.modelID, model != "kb" {
            throw APIError(.notFound, "model_not_found",
                           "the model '\(model)' does not exist; this server has '\(generator.modelID)' (GET /v1/models)")
        }
        if let n = chat.n, n != 1 {
            throw APIError.badRequest("invalid_field", "field 'n' must be 1 (got \(n))")
        }
        let (question, history, extraSystem) = try Self.conversation(chat.messages)
        let parameters = try generationParameters(maxTokens: chat.maxCompletionTokens ?? chat.maxTokens,
                                                  temperature: chat.temperature, topP: chat.topP, seed: chat.seed,
                                                  defaultMaxTokens: answers.defaultMaxTokens)
        let prepared = try await answers.prepare(question: question, history: history, mode: .hybrid, topK: nil,
                                                 filters: SearchFilters(), extraSystem: extraSystem)
        let id = "chatcmpl-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let model = generator.modelID
        let now = Int(Date().timeIntervalSince1970)
        if chat.stream == true {
            let slot = prepared.nothingFound ? nil : try await answers.acquireSlot()
            @Sendable func chunk(_ delta: ChatCompletionChunk.Delta, finish: String? = nil, usage: ChatUsage? = nil,
                       citations: [Citation]? = nil) -> ChatCompletionChunk {
                ChatCompletionChunk(id: id, created: now, model: model,
                                    choices: [.init(index: 0, delta: delta, finishReason: finish)],
                                    usage: usage, citations: citations)
            }
            let opening = ServerSentEvents.event(nil, json: chunk(.init(role: "assistant", content: "")))
            let started = OnceFlag()
            let body = answers.streamingBody(
                prepared, slot: slot, parameters: parameters, requestStarted: requestStarted, logger: logger,
                piece: { text in
                    var buffer = started.first() ? opening : ByteBuffer()
                    var event = ServerSentEvents.event(nil, json: chunk(.init(content: text)))
                    buffer.writeBuffer(&event)
                    return buffer
                },
                finish: { answer in [
                    ServerSentEvents.event(nil, json: chunk(.init(), finish: answer.result.finishReason.rawValue,
                                                            usage: ChatUsage(answer.result.usage),
                                                            citations: answer.citations)),
                    ServerSentEvents.event(nil, data: "[DONE]"),
                ] },
                failure: { error in ServerSentEvents.event(nil, json: APIError.ErrorBody(
                    error: .init(code: error.code, message: error.message))) })
            return Response(status: .ok, headers: ServerSentEvents.headers, body: body)
        }
        return try await timed { [self] in
            let answer = try await answers.completeAnswer(prepared, parameters: parameters, requestStarted: requestStarted,
                                                          logger: logger)
            return JSONBody.response(ChatCompletion(
                id: id, created: now, model: model,
                choices: [.init(index: 0, message: .init(role: "assistant", content: answer.text),
                                finishReason: answer.result.finishReason.rawValue)],
                usage: ChatUsage(answer.result.usage), citations: answer.citations))
        }
    }

    /// Splits OpenAI messages into the question (the last message, which must be the user's),
    /// the earlier user/assistant turns, and the client's system instructions.
    static func conversation(_ messages: [ChatCompletionRequest.Message]) throws
        -> (question: String, history: [PromptMessage], system: String?) {
        guard let last = messages.last else {
            throw APIError.badRequest("invalid_field", "field 'messages' is empty; send at least one user message")
        }
        guard last.role == "user" else {
            throw APIError.badRequest("invalid_field", "the last message must have role \"user\" (got \"\(last.role)\")")
        }
        try InputLimits.conversation(messages.map { $0.content?.text ?? "" }, field: "messages")
        let question = try InputLimits.query(last.content?.text ?? "", field: "messages[\(messages.count - 1)].content")
        var history: [PromptMessage] = []
        var system: [String] = []
        for (index, message) in messages.dropLast().enumerated() {
            let text = message.content?.text ?? ""
            switch message.role {
            case "system", "developer": system.append(text)
            case "user": history.append(PromptMessage(.user, text))
            case "assistant": history.append(PromptMessage(.assistant, text))
            case "tool", "function": continue
            default:
                throw APIError.badRequest("invalid_field", "field 'messages[\(index)].role' is unknown: \"\(message.role)\"")
            }
        }
        return (question, history, system.isEmpty ? nil : system.joined(separator: "\n\n"))
    }
}

/// True the first time only.
final class OnceFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false

    func first() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if done { return false }
        done = true
        return true
    }
}
