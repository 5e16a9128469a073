import Foundation
import Hummingbird
import KBSearch
import Logging

extension KnowledgeServer {
    /// `POST /v1/ask`: a cited answer, as JSON or as Server-Sent Events (`"stream": true`):
    /// `token` events with `{"text"}`, then `citations` (`{"citations", "sources"}`), `usage`
    /// (`{"finish_reason", "usage", "model"}`) and `done`. An error after the stream began is an
    /// `error` event with the usual error object.
    func addAnswerRoutes(_ router: some RouterMethods<KBRequestContext>) {
        router.post("/v1/ask") { [self] request, context in
            try await whileConnected(request) { [self] body in
                try await ask(body, logger: context.logger)
            }
        }
    }

    private func ask(_ body: ByteBuffer, logger: Logger) async throws -> Response {
        let requestStarted = ContinuousClock.now
        let ask = try JSONBody.decode(AskRequest.self, from: body)
        let (question, mode, _) = try SearchRequest.validated(query: ask.question, mode: ask.mode, topK: 1, field: "question")
        if let topK = ask.topK, !(1...20).contains(topK) {
            throw APIError.badRequest("top_k_out_of_range", "field 'top_k' must be between 1 and 20 for answers (got \(topK))")
        }
        let history = try ask.historyMessages()
        try InputLimits.conversation(history.map(\.content) + [question], field: "history")
        let parameters = try generationParameters(maxTokens: ask.maxTokens, temperature: ask.temperature, seed: ask.seed,
                                                  defaultMaxTokens: answers.defaultMaxTokens)
        let generator = try answers.requireGenerator()
        let prepared = try await answers.prepare(question: question, history: history, mode: mode, topK: ask.topK,
                                                 filters: ask.filters?.searchFilters ?? SearchFilters())
        let model = generator.modelID
        if ask.stream == true {
            let slot = prepared.nothingFound ? nil : try await answers.acquireSlot()
            let body = answers.streamingBody(
                prepared, slot: slot, parameters: parameters, requestStarted: requestStarted, logger: logger,
                piece: { ServerSentEvents.event("token", json: AskTokenEvent(text: $0)) },
                finish: { answer in [
                    ServerSentEvents.event("citations", json: AskCitationsEvent(citations: answer.citations,
                                                                               sources: prepared.sources)),
                    ServerSentEvents.event("usage", json: AskUsageEvent(finishReason: answer.result.finishReason.rawValue,
                                                                        usage: answer.result.usage, model: model)),
                    ServerSentEvents.event("done", data: "{}"),
                ] },
                failure: { error in ServerSentEvents.event("error", json: APIError.ErrorBody(
                    error: .init(code: error.code, message: error.message))) })
            return Response(status: .ok, headers: ServerSentEvents.headers, body: body)
        }
        return try await timed { [self] in
            let answer = try await answers.completeAnswer(prepared, parameters: parameters, requestStarted: requestStarted,
                                                          logger: logger)
            return JSONBody.response(AskResponse(answer: answer.text, citations: answer.citations,
                                                 sources: prepared.sources,
                                                 finishReason: answer.result.finishReason.rawValue,
                                                 usage: answer.result.usage, model: model))
        }
    }
}
