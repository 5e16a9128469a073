/// One request of a ``BatchEngine``: a ``TokenLogitsSource`` whose every call waits for the
/// engine's pass that computes it, so the ``Generator`` loop runs unchanged on the request's thread.
///
/// Use from one thread; call ``close()`` when the request ends (deinit does too).
public final class BatchedSession: TokenLogitsSource, @unchecked Sendable {
    private let engine: BatchEngine
    private let request: BatchEngine.Request

    init(engine: BatchEngine, request: BatchEngine.Request) {
        self.engine = engine
        self.request = request
    }

    deinit { engine.close(request) }

    /// The most tokens the request holds.
    public var contextLength: Int { request.sequence.capacity }

    /// Prompt tokens whose keys and values came from cached blocks when the request was (last) admitted.
    public var reusedPromptTokens: Int { engine.reusedTokens(of: request) }

    /// Makes the sequence exactly `prompt` and returns the logits after it, [vocabulary].
    /// - Throws: ``InferenceError`` (empty or too long a prompt, a token outside the vocabulary,
    ///   a KV pool too small, cancelled).
    public func prefill(_ prompt: [Int32]) throws -> [Float] {
        guard !prompt.isEmpty else { throw InferenceError.emptyInput }
        guard prompt.count <= contextLength else {
            throw InferenceError.contextFull(used: 0, adding: prompt.count, capacity: contextLength)
        }
        try check(prompt)
        return try engine.submit(request, tokens: prompt, prompt: true)
    }

    /// Appends the generated `token` and returns the logits after it, [vocabulary].
    /// - Throws: ``InferenceError``.
    public func evaluateNext(_ token: Int32) throws -> [Float] {
        guard request.history.count < contextLength else {
            throw InferenceError.contextFull(used: request.history.count, adding: 1, capacity: contextLength)
        }
        try check([token])
        return try engine.submit(request, tokens: [token], prompt: false)
    }

    /// Ends the request: its blocks go back to the pool (published prompt blocks stay cached).
    public func close() { engine.close(request) }

    private func check(_ tokens: [Int32]) throws {
        let vocabulary = engine.model.hyperparameters.vocabularySize
        if let bad = tokens.first(where: { $0 < 0 || Int($0) >= vocabulary }) {
            throw InferenceError.invalidToken(bad, vocabularySize: vocabulary)
        }
    }
}
