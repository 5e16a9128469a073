import KBSupport

/// The generation loop: prompt → tokens → evaluate → sample → text, streamed piece by piece.
///
/// Each generated token is sampled from the logits of the sequence so far, turned into text
/// (``IncrementalDecoder``: never half a character), checked for stop strings
/// (``StopStringMatcher``: text that may start one waits) and handed to the caller's callback.
/// It ends at an end-of-generation token or stop string (``FinishReason/stop``), after
/// ``GenerationOptions/maxTokens`` or a full context (``FinishReason/length``) or when cancelled.
public struct Generator: Sendable {
    /// Turns prompts into tokens and tokens into text.
    public let tokenizer: BPETokenizer
    /// The tokens that end a turn.
    public let endOfGeneration: EndOfGeneration

    public init(tokenizer: BPETokenizer, endOfGeneration: EndOfGeneration) {
        self.tokenizer = tokenizer
        self.endOfGeneration = endOfGeneration
    }

    /// Generates a continuation of the text `prompt` (tokenized with special tokens such as
    /// `<|im_start|>` recognised, as llama.cpp does for prompts).
    /// - Parameters:
    ///   - source: the model session; its context becomes the prompt (``TokenLogitsSource/prefill(_:)``).
    ///   - onText: receives each piece of text as soon as it is final.
    /// - Throws: ``GenerationError`` for an empty prompt or a bad option, ``SamplingError``, or the
    ///   source's error.
    public func generate<Source: TokenLogitsSource>(
        prompt: String, options: GenerationOptions, source: inout Source,
        cancellation: CancellationFlag? = nil, onText: (String) -> Void = { _ in }
    ) throws -> GenerationResult {
        let clock = ContinuousClock()
        let start = clock.now
        let tokens = tokenizer.encode(prompt, addSpecial: options.addSpecialTokens, parseSpecial: true)
        return try generate(promptTokens: tokens, options: options, source: &source, cancellation: cancellation,
                            startedAt: start, onText: onText)
    }

    /// Generates a continuation of `promptTokens`.
    public func generate<Source: TokenLogitsSource>(
        promptTokens: [Int32], options: GenerationOptions, source: inout Source,
        cancellation: CancellationFlag? = nil, onText: (String) -> Void = { _ in }
    ) throws -> GenerationResult {
        try generate(promptTokens: promptTokens, options: options, source: &source, cancellation: cancellation,
                     startedAt: ContinuousClock().now, onText: onText)
    }

    private func generate<Source: TokenLogitsSource>(
        promptTokens: [Int32], options: GenerationOptions, source: inout Source,
        cancellation: CancellationFlag?, startedAt start: ContinuousClock.Instant, onText: (String) -> Void
    ) throws -> GenerationResult {
        guard !promptTokens.isEmpty else { throw GenerationError.emptyPrompt }
        guard options.maxTokens >= 0 else { throw GenerationError.invalidMaxTokens(options.maxTokens) }
        var sampler = try Sampler(parameters: options.sampling)
        sampler.accept(promptTokens)  // the penalties see the prompt too, as in llama-cli
        var decoder = IncrementalDecoder()
        var stops = StopStringMatcher(options.stopStrings)
        var text = ""
        var generated: [Int32] = []
        var timings = GenerationTimings()
        timings.promptTokens = promptTokens.count
        let clock = ContinuousClock()

        func emit(_ piece: String) {
            guard !piece.isEmpty else { return }
            text += piece
            onText(piece)
        }
        func isCancelled() -> Bool { cancellation?.isCancelled == true || Task.isCancelled }
        func finish(_ reason: FinishReason) -> GenerationResult {
            if reason != .stop || !stops.stopped {
                emit(stops.append(decoder.finish()))
                emit(stops.finish())
            }
            return GenerationResult(text: text, tokens: generated, finishReason: reason, timings: timings)
        }

        if isCancelled() { return finish(.cancelled) }
        if options.maxTokens == 0 { return finish(.length) }
        let promptStart = clock.now
        // A source that waits (the batching engine) throws `InferenceError.cancelled` when the
        // flag is set while it waits: the generation ends as cancelled, as between tokens.
        var logits: [Float]
        do { logits = try source.prefill(promptTokens) } catch InferenceError.cancelled { return finish(.cancelled) }
        timings.promptMilliseconds = (clock.now - promptStart).milliseconds
        var firstTokenAt: ContinuousClock.Instant?

        for token in options.suppressedFirstTokens where token >= 0 && Int(token) < logits.count {
            logits[Int(token)] = -.infinity
        }
        while true {
            let token = sampler.sample(logits)
            sampler.accept(token)
            let now = clock.now
            if let firstTokenAt {
                timings.generationMilliseconds = (now - firstTokenAt).milliseconds
            } else {
                firstTokenAt = now
                timings.timeToFirstTokenMilliseconds = (now - start).milliseconds
            }
            timings.generatedTokens += 1
            if endOfGeneration.contains(token) { return finish(.stop) }
            generated.append(token)
            emit(stops.append(decoder.append(tokenizer.bytes(of: token))))
            if stops.stopped { return finish(.stop) }
            if generated.count >= options.maxTokens || promptTokens.count + generated.count >= source.contextLength {
                return finish(.length)
            }
            if isCancelled() { return finish(.cancelled) }
            do { logits = try source.evaluateNext(token) } catch InferenceError.cancelled { return finish(.cancelled) }
        }
    }
}

/// A generation request that cannot run.
public enum GenerationError: Error, Equatable, CustomStringConvertible {
    /// The prompt has no tokens.
    case emptyPrompt
    /// A negative token limit.
    case invalidMaxTokens(Int)

    public var description: String {
        switch self {
        case .emptyPrompt: return "the prompt is empty (no tokens to continue)"
        case .invalidMaxTokens(let value): return "invalid max tokens \(value): must be 0 or more"
        }
    }
}
