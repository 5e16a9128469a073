import Foundation
import Hummingbird
import KBSearch
import Logging

/// The answering endpoints: `POST /v1/ask`, `POST /v1/chat/completions` (OpenAI-compatible: the
/// last user message is the question, earlier turns are history, and the answer is grounded in the
/// knowledge base with its citations in the extension field `citations`) and `GET /v1/models`.
///
/// Each handler turns its protocol's request into a question, a history and sampling parameters;
/// both share one respond path (``respond(_:parameters:stream:format:requestStarted:logger:)``)
/// and differ only in their ``AnswerFormat``. The whole request runs while its client is connected
/// (``RequestDeadlines/whileConnected(_:_:)``), and a generation has one owner from its slot to its
/// last byte (``GenerationSlot``).
struct AnswerController: Sendable {
    let answers: AnswerService
    let deadlines: RequestDeadlines
    /// When the server started: the `created` time of the model list.
    let started = Int(Date().timeIntervalSince1970)

    func addRoutes(to router: some RouterMethods<KBRequestContext>) {
        router.post("/v1/ask") { request, context in try await ask(request, context: context) }
        router.post("/v1/chat/completions") { request, context in try await chatCompletions(request, context: context) }
        router.get("/v1/models") { _, _ in try models() }
    }

    // MARK: - Handlers

    /// `POST /v1/ask`: a cited answer, as JSON or as Server-Sent Events (`"stream": true`).
    func ask(_ request: Request, context: KBRequestContext) async throws -> Response {
        try await deadlines.whileConnected(request) { body in
            let requestStarted = ContinuousClock.now
            let ask = try JSONBody.decode(AskRequest.self, from: body)
            let (question, mode, _) = try SearchRequest.validated(query: ask.question, mode: ask.mode, topK: 1,
                                                                  field: "question")
            if let topK = ask.topK, !(1...20).contains(topK) {
                throw APIError.badRequest("top_k_out_of_range",
                                          "field 'top_k' must be between 1 and 20 for answers (got \(topK))")
            }
            let history = try ask.historyMessages()
            try InputLimits.conversation(history.map(\.content) + [question], field: "history")
            let parameters = try generationParameters(maxTokens: ask.maxTokens, temperature: ask.temperature, seed: ask.seed,
                                                      defaultMaxTokens: answers.defaultMaxTokens)
            let generator = try answers.requireGenerator()
            let prepared = try await answers.prepare(question: question, history: history, mode: mode, topK: ask.topK,
                                                     filters: ask.filters?.searchFilters ?? SearchFilters())
            return try await respond(prepared, parameters: parameters, stream: ask.stream == true,
                                     format: AskFormat(sources: prepared.sources, model: generator.modelID),
                                     requestStarted: requestStarted, logger: context.logger)
        }
    }

    /// `POST /v1/chat/completions`.
    func chatCompletions(_ request: Request, context: KBRequestContext) async throws -> Response {
        try await deadlines.whileConnected(request) { body in
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
            let format = ChatCompletionFormat(
                id: "chatcmpl-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased(),
                created: Int(Date().timeIntervalSince1970), model: generator.modelID)
            return try await respond(prepared, parameters: parameters, stream: chat.stream == true, format: format,
                                     requestStarted: requestStarted, logger: context.logger)
        }
    }

    /// `GET /v1/models`: the one model this server answers with.
    func models() throws -> Response {
        let generator = try answers.requireGenerator()
        return JSONBody.response(ModelList(data: [.init(id: generator.modelID, created: started)]))
    }

    // MARK: - The respond path

    /// Answers `prepared`: streamed, in a slot taken now (429 when none is free and the waiting
    /// room is full) and owned by the response body; or whole, under the request timeout.
    private func respond(_ prepared: AnswerService.Prepared, parameters: GenerationParameters, stream: Bool,
                         format: some AnswerFormat, requestStarted: ContinuousClock.Instant,
                         logger: Logger) async throws -> Response {
        if stream {
            let slot = prepared.nothingFound ? nil : try await answers.acquireSlot()
            let body = answers.streamingBody(prepared, slot: slot, parameters: parameters, requestStarted: requestStarted,
                                             logger: logger, format: format)
            return Response(status: .ok, headers: ServerSentEvents.headers, body: body)
        }
        return try await deadlines.timed {
            format.response(try await answers.completeAnswer(prepared, parameters: parameters,
                                                              requestStarted: requestStarted, logger: logger))
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
