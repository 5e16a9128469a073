import Foundation
import HTTPTypes
import KBSearch
import Logging
import KBSupport

/// Cited answers: retrieve, build the prompt, wait for a generation slot, generate, and map the
/// markers of the answer to their sources. Shared by `/v1/ask`, `/v1/chat/completions` and, through
/// ``ask(_:mode:topK:parameters:onText:)``, `kb ask` in the terminal.
public final class AnswerService: Sendable {
    let knowledge: KnowledgeBase
    let generator: (any AnswerGenerator)?
    let queue: GenerationQueue
    /// The generations running now (cancelled together on shutdown).
    let running = RunningGenerations()
    let metrics: ServerMetrics
    let contextChunks: Int
    let defaultMaxTokens: Int
    /// Vectors of source sentences embedded for attribution, reused by later answers.
    let sentenceVectors = SentenceEmbeddingCache()

    init(knowledge: KnowledgeBase, generator: (any AnswerGenerator)?, metrics: ServerMetrics,
         configuration: ServerConfiguration) {
        self.knowledge = knowledge
        self.generator = generator
        self.metrics = metrics
        self.contextChunks = configuration.contextChunks
        self.defaultMaxTokens = configuration.maxAnswerTokens
        self.queue = GenerationQueue(maxConcurrent: configuration.maxConcurrentGenerations,
                                     maxWaiting: configuration.maxQueuedGenerations) { waiting, active in
            metrics.setQueue(waiting: waiting, active: active)
        }
    }

    /// An answer service outside the HTTP server (`kb ask`): default settings, one generation at a time.
    /// - Parameters:
    ///   - knowledge: the base to retrieve from.
    ///   - generator: the model that answers.
    public convenience init(knowledge: KnowledgeBase, generator: any AnswerGenerator) {
        self.init(knowledge: knowledge, generator: generator, metrics: ServerMetrics(), configuration: ServerConfiguration())
    }

    /// A cited answer to one question, written as it is generated: the same retrieval, prompt,
    /// engine and citations as `POST /v1/ask`.
    /// - Parameters:
    ///   - question: at most 4 KiB of UTF-8.
    ///   - topK: sources given to the model (default: the server's, 5).
    ///   - onText: each piece of the answer, in order; when nothing relevant was found, the fixed
    ///     "nothing found" answer, without the model.
    /// - Throws: ``APIError`` for a question that is empty or too long, or a prompt longer than
    ///   the model's context; `CancellationError` when cancelled.
    public func ask(_ question: String, mode: SearchMode = .hybrid, topK: Int? = nil, parameters: GenerationParameters,
                    onText: @escaping @Sendable (String) async throws -> Void) async throws -> AnswerReport {
        let started = ContinuousClock.now
        let question = try InputLimits.query(question, field: "question")
        let prepared = try await prepare(question: question, history: [], mode: mode, topK: topK, filters: SearchFilters())
        let answer: Answer
        if prepared.nothingFound {
            answer = Self.nothingFoundAnswer
            try await onText(answer.text)
        } else {
            let slot = try await acquireSlot()
            answer = try await generate(prepared, slot: slot, parameters: parameters, requestStarted: started,
                                        logger: Logger(label: "kb.ask"), onText: onText)
        }
        return AnswerReport(text: answer.text, citedText: answer.citedText, citations: answer.citations, sources: prepared.sources,
                            sentences: answer.sentences, grounded: answer.grounded, outcome: answer.result)
    }

    /// The prompt and its sources, or `sources` empty (and no prompt) when nothing relevant was found.
    struct Prepared: Sendable {
        var prompt: PreparedPrompt?
        var sources: [Citation]
        /// The question the sources were retrieved for.
        var question: String
        var nothingFound: Bool { sources.isEmpty }
    }

    /// The model, or 503 when the server runs without one.
    func requireGenerator() throws -> any AnswerGenerator {
        guard let generator else {
            throw APIError(.serviceUnavailable, "model_not_loaded",
                           "this server was started without a model (kb serve --model FILE.gguf); only search is available")
        }
        return generator
    }

    /// Retrieves the sources of `question` and lays out the prompt (checked by the engine, e.g.
    /// against its context length, before any slot is taken).
    func prepare(question: String, history: [PromptMessage], mode: SearchMode, topK: Int?,
                 filters: SearchFilters, extraSystem: String? = nil) async throws -> Prepared {
        let started = ContinuousClock.now
        let (hits, effective) = try await knowledge.search(question, mode: mode, topK: topK ?? contextChunks, filters: filters)
        metrics.recordSearch(mode: effective.rawValue, duration: ContinuousClock.now - started)
        let sources = AnswerPrompt.ordered(AnswerPrompt.selected(hits).enumerated().map {
            Citation(marker: $0.offset + 1, rank: $0.offset + 1, hit: $0.element)
        })
        guard !sources.isEmpty else { return Prepared(prompt: nil, sources: [], question: question) }
        let messages = AnswerPrompt.messages(question: question, history: history, sources: sources, extraSystem: extraSystem)
        return Prepared(prompt: try requireGenerator().prepare(messages), sources: sources, question: question)
    }

    /// Takes a generation slot or answers 429 with `Retry-After` (503 `shutting_down` once the server stops).
    /// - Returns: the slot, which the caller hands to ``generate(_:slot:parameters:requestStarted:logger:onText:)``
    ///   (it goes back to the queue there, or when the caller drops it unused).
    func acquireSlot() async throws -> GenerationSlot {
        do {
            try await queue.acquire()
            return GenerationSlot(takenFrom: queue)
        } catch let full as GenerationQueue.Full {
            metrics.recordRejectedGeneration()
            throw APIError(.tooManyRequests, "overloaded",
                           "all \(queue.maxConcurrent) generation slots are busy and \(queue.maxWaiting) requests are waiting; retry later",
                           headers: [.retryAfter: String(full.retryAfter)])
        } catch is GenerationQueue.Closed {
            metrics.recordCancelledGeneration(reason: "shutdown")
            throw Self.shuttingDown
        }
    }

    /// Stops answering: waiting requests and later ones are refused, running generations are
    /// cancelled (their clients get a `shutting_down` error). Called when the server begins its
    /// graceful shutdown, so that it does not wait for long generations to finish.
    func shutDown() {
        queue.close()
        running.cancelAll()
    }

    /// The error of an answer cut short by the shutdown.
    static let shuttingDown = APIError(.serviceUnavailable, "shutting_down",
                                       "the server is shutting down; the answer was cancelled (retry on another instance or later)",
                                       headers: [.retryAfter: "5"])

    /// A finished answer.
    struct Answer: Sendable {
        /// As the model wrote it.
        var text: String
        /// With verified and added markers (``AnswerGrounding/citedText(_:)``).
        var citedText: String
        /// The sources some sentence cites, in order of first mention.
        var citations: [Citation]
        /// Each sentence with its citations.
        var sentences: [AttributedSentence]
        /// Whether sources support the answer (``AnswerGrounding/grounded``).
        var grounded: Bool
        var result: GenerationOutcome

        init(text: String, sources: [Citation], sentences: [AttributedSentence], result: GenerationOutcome) {
            let grounding = AnswerGrounding(sentences: sentences)
            self.text = text
            self.citedText = grounding.citedText(text)
            self.citations = grounding.citedSources(sources)
            self.sentences = sentences
            self.grounded = grounding.grounded
            self.result = result
        }
    }

    /// Generates in `slot` (given back here, whatever happens). `onText` gets each
    /// piece, `onSentence` each sentence once it is complete and attributed; when either throws (the
    /// client left) generation stops. The generation runs in a task of
    /// its own, cancelled when the calling task is cancelled (the client hung up, the request timed
    /// out) or when the server shuts down (then this throws the 503 ``shuttingDown`` error).
    func generate(_ prepared: Prepared, slot: GenerationSlot, parameters: GenerationParameters,
                  requestStarted: ContinuousClock.Instant, logger: Logger,
                  onText: @escaping @Sendable (String) async throws -> Void,
                  onSentence: @escaping @Sendable (AttributedSentence) async throws -> Void = { _ in }) async throws -> Answer {
        let started = ContinuousClock.now
        let firstToken = FirstTokenClock()
        let attribution = AnswerAttribution(sources: prepared.sources, embedder: knowledge.engine.embedder,
                                            question: prepared.question, cache: sentenceVectors)
        // The sources' sentences are embedded while the model reads its prompt (BLAS work: off the
        // concurrency pool, like every blocking call).
        let warmUp = Task { [knowledge] in try? await knowledge.offload { attribution.prepare() } }
        do {
            let generator = try requireGenerator()
            guard let prompt = prepared.prompt else { throw CancellationError() }
            let generation = Task {
                let outcome = try await generator.generate(prompt, parameters: parameters) { piece in
                    firstToken.mark()
                    try await onText(piece)
                    for sentence in attribution.append(piece) { try await onSentence(sentence) }
                }
                await warmUp.value
                for sentence in attribution.finish() { try await onSentence(sentence) }
                return outcome
            }
            let registration = running.register { generation.cancel() }
            defer { running.unregister(registration) }
            let result = try await withTaskCancellationHandler {
                try await generation.value
            } onCancel: {
                generation.cancel()
            }
            let finished = ContinuousClock.now
            slot.release(seconds: (finished - started).seconds)
            let ttft = firstToken.instant.map { $0 - requestStarted }
            metrics.recordGeneration(timeToFirstToken: ttft, decodeDuration: firstToken.instant.map { finished - $0 } ?? .zero,
                                     usage: result.usage)
            return Answer(text: attribution.text, sources: prepared.sources, sentences: attribution.sentences, result: result)
        } catch {
            slot.release(seconds: (ContinuousClock.now - started).seconds)
            if running.isShuttingDown {
                metrics.recordCancelledGeneration(reason: "shutdown")
                logger.info("generation cancelled by the shutdown")
                throw Self.shuttingDown
            }
            if error is CancellationError || Task.isCancelled {
                metrics.recordCancelledGeneration(reason: "client")
            }
            logger.info("generation stopped", metadata: ["reason": "\(type(of: error))"])
            throw error
        }
    }

    /// The whole answer for a non-streaming request: the fixed one when retrieval found nothing,
    /// else a generation in a slot taken here (429 when the queue is full).
    func completeAnswer(_ prepared: Prepared, parameters: GenerationParameters, requestStarted: ContinuousClock.Instant,
                        logger: Logger) async throws -> Answer {
        if prepared.nothingFound { return Self.nothingFoundAnswer }
        let slot = try await acquireSlot()
        return try await generate(prepared, slot: slot, parameters: parameters, requestStarted: requestStarted,
                                  logger: logger) { _ in }
    }

    /// The answer given without the model when retrieval found nothing.
    static let nothingFoundAnswer = Answer(text: AnswerPrompt.nothingFound, sources: [], sentences: [],
                                           result: GenerationOutcome(finishReason: .stop,
                                                                    usage: GenerationUsage(promptTokens: 0, completionTokens: 0)))
}

/// The instant the first token arrived (set once, from the generating task).
final class FirstTokenClock: Sendable {
    private let value = Locked<ContinuousClock.Instant?>(nil)

    func mark() { value.withLock { if $0 == nil { $0 = .now } } }

    var instant: ContinuousClock.Instant? { value.current }
}

/// A finished cited answer (``AnswerService/ask(_:mode:topK:parameters:onText:)``).
public struct AnswerReport: Sendable, Encodable {
    /// The answer as generated.
    public var text: String
    /// The answer with verified citations: the model's markers as `[n]`, those kb added as `[^n]`,
    /// and a note at the end when no source supports it.
    public var citedText: String
    /// The sources the answer cites, in order of first mention, with their exact document spans.
    public var citations: [Citation]
    /// Every source given to the model (empty when nothing relevant was found).
    public var sources: [Citation]
    /// Each answer sentence with the source spans that support it.
    public var sentences: [AttributedSentence]
    /// False when no source supports the answer's claims (or it makes none: kb declined).
    public var grounded: Bool
    /// Why generation ended, and the token counts.
    public var outcome: GenerationOutcome

    enum CodingKeys: String, CodingKey {
        case text = "answer", citedText = "cited_answer", citations, sources, sentences, grounded
        case finishReason = "finish_reason", usage
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(text, forKey: .text)
        try container.encode(citedText, forKey: .citedText)
        try container.encode(citations, forKey: .citations)
        try container.encode(sources, forKey: .sources)
        try container.encode(sentences, forKey: .sentences)
        try container.encode(grounded, forKey: .grounded)
        try container.encode(outcome.finishReason.rawValue, forKey: .finishReason)
        try container.encode(outcome.usage, forKey: .usage)
    }
}
