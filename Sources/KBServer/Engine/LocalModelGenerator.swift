import Foundation
import KBLLM

/// The local GGUF engine (KBLLM) behind the server's ``AnswerGenerator`` protocol.
///
/// Each request renders the messages with the model's chat template and becomes a sequence of the
/// model's ``BatchEngine`` (continuous batching: every running answer advances in the same forward
/// passes, prompts share cached blocks of the KV pool by reference); its generation loop
/// (sampling, stop strings) runs on a thread of its own and the pieces come back to the calling
/// task through a buffer. Cancelling the task, or `onText` throwing (the client left), sets the
/// request's cancellation flag: it leaves the engine at the next pass and its blocks go back.
public final class LocalModelGenerator: AnswerGenerator {
    public let modelID: String
    public let model: LanguageModel
    /// The batching engine every request of this model runs in.
    public let engine: BatchEngine
    private let template: ChatTemplate
    private let generator: Generator
    /// Tokens an answer may not begin with: a citation marker (`[`, after any spaces), only spaces
    /// and newlines, or the end of the turn. Small models otherwise answer with a bare `[1]`, or with nothing.
    let answerCannotStartWith: [Int32]

    /// - Parameters:
    ///   - model: the loaded model.
    ///   - modelID: the name shown to clients (default: the file name without `.gguf`).
    ///   - batching: the engine's scheduler settings (sequences evaluated together, tokens per pass).
    /// - Throws: ``ChatTemplateError`` when kb does not know the model's chat template.
    public init(model: LanguageModel, modelID: String, batching: BatchEngine.Settings = .init()) throws {
        self.model = model
        self.modelID = modelID
        self.engine = BatchEngine(model: model, settings: batching)
        self.template = try ChatTemplate(model: model)
        self.generator = Generator(model: model)
        self.answerCannotStartWith = Self.tokensThatCannotStartAnAnswer(model.tokenizer) + generator.endOfGeneration.tokens.sorted()
    }

    /// The vocabulary's tokens whose text, after leading spaces and newlines, begins with `[` or is empty.
    static func tokensThatCannotStartAnAnswer(_ tokenizer: BPETokenizer) -> [Int32] {
        (0..<Int32(tokenizer.vocabularySize)).filter { id in
            let bytes = tokenizer.bytes(of: id)
            guard !bytes.isEmpty else { return false }   // control tokens (not text) are left alone
            let first = bytes.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x09 && $0 != 0x0D }
            return first == nil || first == UInt8(ascii: "[")
        }
    }

    /// Loads a GGUF file.
    /// - Parameters:
    ///   - kvCacheBytes: the KV pool's budget (``LanguageModel/Options/kvCacheBytes``; nil: its default).
    public convenience init(path: String, threads: Int? = nil, batching: BatchEngine.Settings = .init(), kvCacheBytes: Int? = nil) throws {
        let model = try LanguageModel(path: path, options: LanguageModel.Options(threads: threads, kvCacheBytes: kvCacheBytes))
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        try self.init(model: model, modelID: name, batching: batching)
    }

    public var engineStatistics: (batch: BatchStatistics, pool: KVPoolStatistics)? {
        (engine.statistics, model.kvPool.statistics)
    }

    /// Renders the messages with the chat template and tokenizes them — the template's markers as
    /// control tokens, every message's text literally (a question or document cannot forge a turn) —
    /// and checks the prompt fits the model's context.
    /// - Throws: ``APIError`` 400 `context_length_exceeded`.
    public func prepare(_ messages: [PromptMessage]) throws -> PreparedPrompt {
        let chat = messages.map { message -> ChatMessage in
            switch message.role {
            case .system: return .system(message.content)
            case .user: return .user(message.content)
            case .assistant: return .assistant(message.content)
            }
        }
        let tokens = try template.tokenize(chat, with: model.tokenizer)
        let contextLength = model.defaultContextLength
        guard tokens.count < contextLength else {
            throw APIError.badRequest("context_length_exceeded",
                                      "the prompt has \(tokens.count) tokens; the model's context holds \(contextLength) "
                                      + "(fewer sources (top_k) or a shorter history)")
        }
        return PreparedPrompt(messages: messages, tokens: tokens)
    }

    public func generate(_ prompt: PreparedPrompt, parameters: GenerationParameters,
                         onText: @Sendable (String) async throws -> Void) async throws -> GenerationOutcome {
        let tokens = try prompt.tokens ?? prepare(prompt.messages).tokens ?? []
        var options = GenerationOptions(maxTokens: parameters.maxTokens)
        options.suppressedFirstTokens = answerCannotStartWith
        if parameters.temperature <= 0 {
            options.sampling = .greedy
        } else {
            options.sampling.temperature = Float(parameters.temperature)
            options.sampling.topP = Float(parameters.topP)
            if let seed = parameters.seed { options.sampling.seed = seed }
        }
        let cancellation = CancellationFlag()
        let (pieces, continuation) = AsyncStream<String>.makeStream()
        let (engine, generator) = (self.engine, self.generator)
        let options_ = options
        return try await withTaskCancellationHandler {
            async let outcome = Self.onOwnThread { () throws -> (KBLLM.GenerationResult, Int) in
                defer { continuation.finish() }
                var session = engine.makeSession(cancellation: cancellation)
                defer { session.close() }
                let result = try generator.generate(promptTokens: tokens, options: options_, source: &session,
                                                    cancellation: cancellation) { piece in continuation.yield(piece) }
                return (result, session.reusedPromptTokens)
            }
            do {
                for await piece in pieces { try await onText(piece) }
            } catch {
                cancellation.cancel()
                _ = try? await outcome
                throw error
            }
            let (result, reused) = try await outcome
            // The engine may have finished on its own before it saw the flag: a cancelled request
            // still ends as cancelled, whichever came first.
            try Task.checkCancellation()
            let finish: GenerationOutcome.FinishReason
            switch result.finishReason {
            case .stop: finish = .stop
            case .length: finish = .length
            case .cancelled: throw CancellationError()
            }
            return GenerationOutcome(finishReason: finish, usage: GenerationUsage(
                promptTokens: tokens.count, completionTokens: result.tokens.count,
                cachedPromptTokens: reused))
        } onCancel: {
            cancellation.cancel()
        }
    }

    /// Runs blocking work on a new thread (never on the Swift concurrency pool, which it would stall).
    private static func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try work() }) }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }
}
