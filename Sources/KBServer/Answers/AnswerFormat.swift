import Foundation
import Hummingbird
import KBSearch
import NIOCore
import KBSupport

/// How one endpoint writes an answer: its Server-Sent Events when streamed, its JSON body when not.
/// ``AnswerController`` runs every answer through one respond path; the endpoints differ only here.
protocol AnswerFormat: Sendable {
    /// The bytes of one streamed text piece.
    func piece(_ text: String) -> ByteBuffer
    /// The bytes announcing one complete, attributed sentence (nil: the endpoint has no such event).
    func sentence(_ sentence: AttributedSentence) -> ByteBuffer?
    /// The events that close a stream (citations, usage, end marker).
    func finish(_ answer: AnswerService.Answer) -> [ByteBuffer]
    /// The event reporting an error after the stream began.
    func failure(_ error: APIError) -> ByteBuffer
    /// The response of a non-streamed answer.
    func response(_ answer: AnswerService.Answer) -> Response
}

/// `POST /v1/ask`: `token` events with `{"text"}` and, as each sentence ends, a `sentence` event
/// (the sentence with its citations); then `citations` (`{"citations", "sources", "sentences",
/// "grounded", "cited_answer"}`), `usage` (`{"finish_reason", "usage", "model"}`) and `done`;
/// errors as an `error` event.
struct AskFormat: AnswerFormat {
    var sources: [Citation]
    var model: String

    func piece(_ text: String) -> ByteBuffer {
        ServerSentEvents.event("token", json: AskTokenEvent(text: text))
    }

    func sentence(_ sentence: AttributedSentence) -> ByteBuffer? {
        ServerSentEvents.event("sentence", json: sentence)
    }

    func finish(_ answer: AnswerService.Answer) -> [ByteBuffer] {
        [
            ServerSentEvents.event("citations", json: AskCitationsEvent(citations: answer.citations, sources: sources,
                                                                        sentences: answer.sentences, grounded: answer.grounded,
                                                                        citedAnswer: answer.citedText)),
            ServerSentEvents.event("usage", json: AskUsageEvent(finishReason: answer.result.finishReason.rawValue,
                                                                usage: answer.result.usage, model: model)),
            ServerSentEvents.event("done", data: "{}"),
        ]
    }

    func failure(_ error: APIError) -> ByteBuffer {
        ServerSentEvents.event("error", json: APIError.ErrorBody(error: .init(code: error.code, message: error.message)))
    }

    func response(_ answer: AnswerService.Answer) -> Response {
        JSONBody.response(AskResponse(answer: answer.text, citedAnswer: answer.citedText, citations: answer.citations,
                                      sources: sources, sentences: answer.sentences, grounded: answer.grounded,
                                      finishReason: answer.result.finishReason.rawValue,
                                      usage: answer.result.usage, model: model))
    }
}

/// `POST /v1/chat/completions`, as OpenAI's API writes it: `chat.completion.chunk` events (the
/// first carries the assistant role), the last with `finish_reason`, usage and kb's `citations`,
/// then `[DONE]`; or one `chat.completion` object.
struct ChatCompletionFormat: AnswerFormat {
    var id: String
    var created: Int
    var model: String
    /// Whether the opening chunk (the role) has been written.
    let opened = OnceFlag()

    private func chunk(_ delta: ChatCompletionChunk.Delta, finish: String? = nil, usage: ChatUsage? = nil,
                       citations: [Citation]? = nil, grounded: Bool? = nil) -> ChatCompletionChunk {
        ChatCompletionChunk(id: id, created: created, model: model,
                            choices: [.init(index: 0, delta: delta, finishReason: finish)],
                            usage: usage, citations: citations, grounded: grounded)
    }

    func piece(_ text: String) -> ByteBuffer {
        var buffer = opened.first()
            ? ServerSentEvents.event(nil, json: chunk(.init(role: "assistant", content: ""))) : ByteBuffer()
        var event = ServerSentEvents.event(nil, json: chunk(.init(content: text)))
        buffer.writeBuffer(&event)
        return buffer
    }

    /// OpenAI's chunks have no place for a sentence; its citations come with the last chunk.
    func sentence(_ sentence: AttributedSentence) -> ByteBuffer? { nil }

    func finish(_ answer: AnswerService.Answer) -> [ByteBuffer] {
        [
            ServerSentEvents.event(nil, json: chunk(.init(), finish: answer.result.finishReason.rawValue,
                                                    usage: ChatUsage(answer.result.usage), citations: answer.citations,
                                                    grounded: answer.grounded)),
            ServerSentEvents.event(nil, data: "[DONE]"),
        ]
    }

    func failure(_ error: APIError) -> ByteBuffer {
        ServerSentEvents.event(nil, json: APIError.ErrorBody(error: .init(code: error.code, message: error.message)))
    }

    func response(_ answer: AnswerService.Answer) -> Response {
        JSONBody.response(ChatCompletion(
            id: id, created: created, model: model,
            choices: [.init(index: 0, message: .init(role: "assistant", content: answer.text),
                            finishReason: answer.result.finishReason.rawValue)],
            usage: ChatUsage(answer.result.usage), citations: answer.citations, grounded: answer.grounded))
    }
}

/// True the first time only.
final class OnceFlag: Sendable {
    private let done = Locked(false)

    func first() -> Bool {
        done.withLock { done in
            defer { done = true }
            return !done
        }
    }
}
