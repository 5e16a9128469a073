/// One request's context: the tokens evaluated so far and their keys and values (a ``KVCache``).
///
/// Use one session per request, from one thread at a time; sessions of the same model run
/// concurrently. Typical use: ``prefill(_:)`` the prompt (reusing a cached prefix), then
/// ``evaluate(_:logitRows:)`` each sampled token.
public final class InferenceSession {
    /// The model.
    public let model: LanguageModel
    /// The most tokens the session holds.
    public let contextLength: Int
    /// The tokens whose keys and values are in the session, in order (positions `0..<tokens.count`).
    public var tokens: [Int32] { sequence.tokens }
    /// Tokens per forward pass when evaluating many (a long prompt runs in batches of this size).
    public var batchSize = 512
    /// Told every named intermediate of every forward pass (``TensorObserver``); nil normally.
    public var observer: TensorObserver?

    /// How the last ``prefill(_:)`` obtained the prompt's state.
    public struct PrefillReport: Sendable, Equatable {
        /// Prompt tokens already in this session (a common prefix with its previous tokens).
        public var reusedFromSession = 0
        /// Prompt tokens whose blocks were taken from the model's KV pool (a cached prefix).
        public var reusedFromCache = 0
        /// Prompt tokens computed.
        public var computed = 0
    }
    /// How the last ``prefill(_:)`` went.
    public private(set) var lastPrefill = PrefillReport()

    /// The session's blocks in the model's ``KVBlockPool``.
    private var sequence: KVSequence
    private let pool: ThreadPool
    private let usePrefixCache: Bool

    init(model: LanguageModel, contextLength: Int, pool: ThreadPool, usePrefixCache: Bool) {
        self.model = model
        self.pool = pool
        self.usePrefixCache = usePrefixCache
        self.contextLength = max(1, contextLength)
        sequence = KVSequence(pool: model.kvPool, capacity: self.contextLength)
    }

    /// Appends `newTokens` to the context and returns the logits that follow.
    ///
    /// - Parameter logitRows: how many of the last positions to return logits for (default 1:
    ///   the distribution of the next token). `newTokens.count` gives one row per new token.
    /// - Returns: `logitRows × vocabularySize` floats, row-major, the last position last.
    /// - Throws: ``InferenceError`` for no tokens, an id outside the vocabulary, a full context or
    ///   a full KV pool.
    public func evaluate(_ newTokens: [Int32], logitRows: Int = 1) throws -> [Float] {
        guard !newTokens.isEmpty else { throw InferenceError.emptyInput }
        guard (1...newTokens.count).contains(logitRows) else {
            throw InferenceError.invalidLogitRows(requested: logitRows, tokens: newTokens.count)
        }
        let vocabulary = model.hyperparameters.vocabularySize
        if let bad = newTokens.first(where: { $0 < 0 || Int($0) >= vocabulary }) {
            throw InferenceError.invalidToken(bad, vocabularySize: vocabulary)
        }
        guard sequence.count + newTokens.count <= contextLength else {
            throw InferenceError.contextFull(used: sequence.count, adding: newTokens.count, capacity: contextLength)
        }
        var logits: [Float] = []
        logits.reserveCapacity(logitRows * vocabulary)
        var offset = 0
        while offset < newTokens.count {
            let end = min(newTokens.count, offset + max(1, batchSize))
            // The requested rows are the last `logitRows` of newTokens; this batch's share is a suffix of it.
            let rows = max(0, min(end - offset, end - (newTokens.count - logitRows)))
            let batch = newTokens[offset..<end]
            guard sequence.reserve(adding: batch.count) else {
                throw InferenceError.kvPoolFull(needed: batch.count, poolBytes: model.kvPool.byteCount)
            }
            let segment = ForwardSegment.llamaCpp(batch, start: sequence.count, sequence: sequence, logitRows: rows)
            let out = try model.transformer.forward([segment], pool: pool, observer: observer)
            logits.append(contentsOf: out[0])
            sequence.append(batch)
            offset = end
        }
        return logits
    }

    /// Makes the context exactly `prompt` and returns the logits of the next token.
    ///
    /// Reuses the longest common prefix with the session's current tokens or, when longer, the
    /// longest cached prefix in the model's ``KVBlockPool`` (its blocks taken by reference, not
    /// copied); computes only the rest; then publishes the prompt's full blocks for other
    /// requests. The last prompt token is always computed, so logits are returned. See
    /// ``lastPrefill`` for what was reused.
    /// - Throws: ``InferenceError``.
    public func prefill(_ prompt: [Int32]) throws -> [Float] {
        guard !prompt.isEmpty else { throw InferenceError.emptyInput }
        guard prompt.count <= contextLength else {
            throw InferenceError.contextFull(used: 0, adding: prompt.count, capacity: contextLength)
        }
        var report = PrefillReport()
        var keep = 0
        let limit = prompt.count - 1
        let current = sequence.tokens
        while keep < min(current.count, limit), current[keep] == prompt[keep] { keep += 1 }
        report.reusedFromSession = keep
        if usePrefixCache && keep < limit {
            let cached = KVSequence(pool: model.kvPool, capacity: contextLength)
            let found = cached.adoptCachedPrefix(of: prompt[...], maxTokens: limit)
            if found > keep {
                sequence.release()
                sequence = cached
                report.reusedFromSession = 0
                report.reusedFromCache = found
                keep = found
            } else {
                cached.release()
            }
        }
        sequence.truncate(to: keep)
        report.computed = prompt.count - keep
        let logits = try evaluate(Array(prompt[keep...]))
        if usePrefixCache { sequence.publish(prefix: prompt.count) }
        lastPrefill = report
        return logits
    }

    /// Forgets every token from position `count` on (e.g. to rewind a rejected continuation).
    public func truncate(to count: Int) {
        sequence.truncate(to: count)
    }

    /// Gives the session's KV blocks back to the pool (they stay cached where published); the
    /// session is empty afterwards and may be used again.
    public func reset() {
        sequence.release()
    }
}
