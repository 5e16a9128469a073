/// One request's context: the tokens evaluated so far and their keys and values (a ``KVCache``).
///
/// Use one session per request, from one thread at a time; sessions of the same model run
/// concurrently. Typical use: ``prefill(_:)`` the prompt (reusing a cached prefix), then
/// ``evaluate(_:logitRows:)`` each sampled token.
public final class InferenceSession {
    /// The model.
    public let model: LanguageModel
    /// The most tokens the session holds.
    public var contextLength: Int { cache.capacity }
    /// The tokens whose keys and values are in the cache, in order (positions `0..<tokens.count`).
    public private(set) var tokens: [Int32] = []
    /// Tokens per forward pass when evaluating many (a long prompt runs in batches of this size).
    public var batchSize = 512
    /// Told every named intermediate of every forward pass (``TensorObserver``); nil normally.
    public var observer: TensorObserver?

    /// How the last ``prefill(_:)`` obtained the prompt's state.
    public struct PrefillReport: Sendable, Equatable {
        /// Prompt tokens already in this session (a common prefix with its previous tokens).
        public var reusedFromSession = 0
        /// Prompt tokens copied from the shared prefix cache.
        public var reusedFromCache = 0
        /// Prompt tokens computed.
        public var computed = 0
    }
    /// How the last ``prefill(_:)`` went.
    public private(set) var lastPrefill = PrefillReport()

    private let cache: KVCache
    private let pool: ThreadPool
    private let prefixCache: PrefixCache?

    init(model: LanguageModel, contextLength: Int, pool: ThreadPool, prefixCache: PrefixCache?) {
        self.model = model
        self.pool = pool
        self.prefixCache = prefixCache
        cache = KVCache(hyper: model.hyperparameters, capacity: max(1, contextLength), precision: model.kvCachePrecision)
    }

    /// Appends `newTokens` to the context and returns the logits that follow.
    ///
    /// - Parameter logitRows: how many of the last positions to return logits for (default 1:
    ///   the distribution of the next token). `newTokens.count` gives one row per new token.
    /// - Returns: `logitRows × vocabularySize` floats, row-major, the last position last.
    /// - Throws: ``InferenceError`` for no tokens, an id outside the vocabulary, or a full context.
    public func evaluate(_ newTokens: [Int32], logitRows: Int = 1) throws -> [Float] {
        guard !newTokens.isEmpty else { throw InferenceError.emptyInput }
        guard (1...newTokens.count).contains(logitRows) else {
            throw InferenceError.invalidLogitRows(requested: logitRows, tokens: newTokens.count)
        }
        let vocabulary = model.hyperparameters.vocabularySize
        if let bad = newTokens.first(where: { $0 < 0 || Int($0) >= vocabulary }) {
            throw InferenceError.invalidToken(bad, vocabularySize: vocabulary)
        }
        guard tokens.count + newTokens.count <= cache.capacity else {
            throw InferenceError.contextFull(used: tokens.count, adding: newTokens.count, capacity: cache.capacity)
        }
        var logits: [Float] = []
        logits.reserveCapacity(logitRows * vocabulary)
        var offset = 0
        while offset < newTokens.count {
            let end = min(newTokens.count, offset + max(1, batchSize))
            // The requested rows are the last `logitRows` of newTokens; this batch's share is a suffix of it.
            let rows = max(0, min(end - offset, end - (newTokens.count - logitRows)))
            let batch = newTokens[offset..<end]
            let out = try model.transformer.forward(batch, start: tokens.count, cache: cache, logitRows: rows, pool: pool,
                                                    observer: observer)
            logits.append(contentsOf: out)
            tokens.append(contentsOf: batch)
            offset = end
        }
        return logits
    }

    /// Makes the context exactly `prompt` and returns the logits of the next token.
    ///
    /// Reuses the longest common prefix with the session's current tokens and, beyond it, the
    /// longest prefix in the model's shared ``PrefixCache``; computes only the rest; then
    /// publishes the prompt's full blocks to the prefix cache. The last prompt token is always
    /// computed, so logits are returned. See ``lastPrefill`` for what was reused.
    /// - Throws: ``InferenceError``.
    public func prefill(_ prompt: [Int32]) throws -> [Float] {
        guard !prompt.isEmpty else { throw InferenceError.emptyInput }
        guard prompt.count <= cache.capacity else {
            throw InferenceError.contextFull(used: 0, adding: prompt.count, capacity: cache.capacity)
        }
        var report = PrefillReport()
        var keep = 0
        let limit = prompt.count - 1
        while keep < min(tokens.count, limit), tokens[keep] == prompt[keep] { keep += 1 }
        report.reusedFromSession = keep
        if let prefixCache {
            let lease = prefixCache.acquireLongestPrefix(of: prompt, maxTokens: limit)
            if lease.tokenCount > keep {
                let size = prefixCache.blockSize
                for (index, block) in lease.blocks.enumerated() where (index + 1) * size > keep {
                    cache.copyIn(start: index * size, tokens: size, from: block.storage)
                }
                report.reusedFromCache = lease.tokenCount - keep
                keep = lease.tokenCount
            }
            lease.release()
        }
        truncate(to: keep)
        tokens = Array(prompt[..<keep])
        report.computed = prompt.count - keep
        let logits = try evaluate(Array(prompt[keep...]))
        prefixCache?.publish(prompt, from: cache)
        lastPrefill = report
        return logits
    }

    /// Forgets every token from position `count` on (e.g. to rewind a rejected continuation).
    public func truncate(to count: Int) {
        if count < tokens.count { tokens.removeLast(tokens.count - max(0, count)) }
    }
}
