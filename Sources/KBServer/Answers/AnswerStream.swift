import Foundation
import Hummingbird
import Logging
import NIOCore

extension AnswerService {
    /// A streaming response body: generation runs in a child task and hands each piece to the
    /// writer through a buffer. When a write fails (the client disconnected) the child task is
    /// cancelled, which stops the model at its next token; the slot is released either way.
    ///
    /// - Parameters:
    ///   - prepared: the prompt; with no sources the fixed "nothing found" answer is sent without the model.
    ///   - slot: the generation slot taken for this stream (nil only when nothing was found). The body
    ///     owns it: it goes back when the generation ends, or when the body is dropped without running
    ///     (the client left before the response head was written).
    ///   - format: the endpoint's events (text pieces, closing events, the error event).
    func streamingBody(_ prepared: Prepared, slot: GenerationSlot?, parameters: GenerationParameters,
                       requestStarted: ContinuousClock.Instant, logger: Logger,
                       format: some AnswerFormat) -> ResponseBody {
        ResponseBody { [self] writer in
            guard let slot, !prepared.nothingFound else {
                let answer = Self.nothingFoundAnswer
                try await writer.write(format.piece(answer.text))
                for event in format.finish(answer) { try await writer.write(event) }
                try await writer.finish(nil)
                return
            }
            let (events, continuation) = AsyncStream<ByteBuffer>.makeStream()
            do {
                let answer = try await withThrowingTaskGroup(of: Answer.self) { group in
                    group.addTask { [self] in
                        defer { continuation.finish() }
                        return try await generate(prepared, slot: slot, parameters: parameters,
                                                  requestStarted: requestStarted, logger: logger) { text in
                            continuation.yield(format.piece(text))
                        } onSentence: { sentence in
                            if let event = format.sentence(sentence) { continuation.yield(event) }
                        }
                    }
                    for await event in events {
                        try await writer.write(event)   // throws when the client has gone: cancels the child
                    }
                    guard let answer = try await group.next() else { throw CancellationError() }
                    return answer
                }
                for event in format.finish(answer) { try await writer.write(event) }
            } catch let error as APIError {
                try await writer.write(format.failure(error))
            } catch is CancellationError {
                logger.info("answer stream cancelled")
                throw CancellationError()
            } catch {
                logger.info("answer stream ended early", metadata: ["error": "\(type(of: error))"])
                throw error
            }
            try await writer.finish(nil)
        }
    }
}
