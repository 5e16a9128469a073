import KBSupport

/// Vectors of texts the base's embedding model has already embedded for attribution. The same
/// passages answer many questions, so their sentences recur: embedding them again would take the
/// cores the answer model needs (on 2 cores, 16 questions at once spent seconds re-embedding the
/// same five passages). Least recently used texts go beyond ``capacity``. Thread-safe.
final class SentenceEmbeddingCache: Sendable {
    /// The most texts kept (384 floats each with MiniLM: 1.5 KiB).
    let capacity: Int

    private struct State {
        var vectors: [String: (vector: [Float], lastUse: UInt64)] = [:]
        var clock: UInt64 = 0
        var hits = 0
        var misses = 0
    }
    private let state = Locked(State())

    init(capacity: Int = 20_000) { self.capacity = max(1, capacity) }

    /// The vectors of `texts`, in order: cached ones as they are, the others from one call of
    /// `embed` (which must return one vector per text, in order) and then kept.
    func vectors(of texts: [String], embed: ([String]) throws -> [[Float]]) throws -> [[Float]] {
        var found = [[Float]?](repeating: nil, count: texts.count)
        var missing: [Int] = []
        state.withLock { state in
            state.clock += 1
            for (index, text) in texts.enumerated() {
                if let entry = state.vectors[text] {
                    found[index] = entry.vector
                    state.vectors[text] = (entry.vector, state.clock)
                    state.hits += 1
                } else {
                    missing.append(index)
                }
            }
            state.misses += missing.count
        }
        guard !missing.isEmpty else { return found.map { $0! } }
        let unique = Array(Set(missing.map { texts[$0] }))
        let embedded = try embed(unique)
        guard embedded.count == unique.count else { return try embed(texts) }
        let byText = Dictionary(uniqueKeysWithValues: zip(unique, embedded))
        for index in missing { found[index] = byText[texts[index]] }
        state.withLock { state in
            for (text, vector) in byText { state.vectors[text] = (vector, state.clock) }
            if state.vectors.count > capacity {
                // Evict the least recently used tenth at once (amortized O(1) per insertion).
                let excess = state.vectors.count - capacity + capacity / 10
                let oldest = state.vectors.sorted { $0.value.lastUse < $1.value.lastUse }.prefix(excess)
                for (text, _) in oldest { state.vectors[text] = nil }
            }
        }
        return found.map { $0! }
    }

    /// Texts served from the cache and texts embedded, since the start.
    var counts: (hits: Int, misses: Int) { state.withLock { ($0.hits, $0.misses) } }

    /// Texts kept now.
    var count: Int { state.withLock { $0.vectors.count } }
}
