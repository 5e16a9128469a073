import Foundation

/// Chooses the next token from a logit vector, in llama.cpp's default order
/// (`common_sampler`): penalties → top-k → top-p → min-p → temperature → draw.
///
/// Temperature 0 is greedy: the token with the highest (penalised) logit, lowest id among ties
/// (every filter keeps the best token, so the filters cannot change it). Ties elsewhere are also
/// broken by the lower id, so a seed fixes the result.
///
/// The sampler is a value owned by one generation; it remembers the recent tokens (``accept(_:)``)
/// that the penalties look at.
public struct Sampler: Sendable {
    /// One token still in the running.
    public struct Candidate: Sendable, Equatable {
        public var token: Int32
        public var logit: Float
    }

    public let parameters: SamplingParameters
    private var random: RandomSource
    private var recent: RecentTokens
    /// Logits after the penalties, [vocabulary] (reused between calls).
    private var scratch: [Float] = []

    /// - Throws: ``SamplingError`` for parameters out of range.
    public init(parameters: SamplingParameters) throws {
        try parameters.validate()
        self.parameters = parameters
        random = RandomSource(seed: parameters.seed)
        recent = RecentTokens(capacity: parameters.penaltyWindow)
    }

    /// Records a token of the sequence (prompt or generated) for the penalties.
    public mutating func accept(_ token: Int32) { recent.append(token) }

    /// Records tokens of the sequence in order.
    public mutating func accept(_ tokens: some Sequence<Int32>) { for token in tokens { recent.append(token) } }

    /// The next token for `logits` ([vocabulary], one per token id).
    /// Does not record it: call ``accept(_:)`` with the token kept.
    /// - Precondition: `logits` is not empty.
    public mutating func sample(_ logits: [Float]) -> Int32 {
        precondition(!logits.isEmpty, "Sampler.sample needs at least one logit")
        let penalised: [Float]
        if parameters.hasPenalties {
            scratch = logits
            applyPenalties(to: &scratch)
            penalised = scratch
        } else {
            penalised = logits
        }
        if parameters.isGreedy { return Self.argmax(penalised) }

        var candidates = Self.topK(penalised, parameters.topK)
        Self.topP(&candidates, parameters.topP)
        Self.minP(&candidates, parameters.minP)
        for index in candidates.indices { candidates[index].logit /= parameters.temperature }
        return draw(from: candidates)
    }

    // MARK: - The steps (internal so tests can check each)

    /// llama.cpp `llama_sampler_penalties`: for each token seen in the window with count c,
    /// logit ← logit / r if positive else logit × r; then logit −= c × frequency + presence.
    func applyPenalties(to logits: inout [Float]) {
        for (token, count) in recent.counts() where token >= 0 && Int(token) < logits.count {
            var logit = logits[Int(token)]
            logit = logit <= 0 ? logit * parameters.repetitionPenalty : logit / parameters.repetitionPenalty
            logit -= Float(count) * parameters.frequencyPenalty + parameters.presencePenalty
            logits[Int(token)] = logit
        }
    }

    /// The index of the largest logit (lowest index among equals; NaN never wins).
    static func argmax(_ logits: [Float]) -> Int32 {
        var best = 0
        var bestLogit = -Float.infinity
        for (index, logit) in logits.enumerated() where logit > bestLogit {
            best = index
            bestLogit = logit
        }
        return Int32(best)
    }

    /// Whether `a` ranks before `b`: higher logit, then lower id.
    static func ranksBefore(_ a: Candidate, _ b: Candidate) -> Bool {
        a.logit != b.logit ? a.logit > b.logit : a.token < b.token
    }

    /// The `k` best tokens, best first (all tokens, sorted, when `k` is 0 or at least the vocabulary).
    /// - Complexity: O(n log k) with a min-heap of the best `k` so far.
    static func topK(_ logits: [Float], _ k: Int) -> [Candidate] {
        guard k > 0, k < logits.count else {
            return logits.enumerated().map { Candidate(token: Int32($0.offset), logit: $0.element) }
                .sorted(by: ranksBefore)
        }
        // heap[0] is the worst of the kept candidates.
        var heap: [Candidate] = []
        heap.reserveCapacity(k)
        for (index, logit) in logits.enumerated() {
            let candidate = Candidate(token: Int32(index), logit: logit)
            if heap.count < k {
                heap.append(candidate)
                siftUp(&heap, heap.count - 1)
            } else if ranksBefore(candidate, heap[0]) {
                heap[0] = candidate
                siftDown(&heap, 0)
            }
        }
        return heap.sorted(by: ranksBefore)
    }

    private static func siftUp(_ heap: inout [Candidate], _ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard ranksBefore(heap[parent], heap[child]) else { return }
            heap.swapAt(parent, child)
            child = parent
        }
    }

    private static func siftDown(_ heap: inout [Candidate], _ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1, right = left + 1
            var worst = parent
            if left < heap.count, ranksBefore(heap[worst], heap[left]) { worst = left }
            if right < heap.count, ranksBefore(heap[worst], heap[right]) { worst = right }
            guard worst != parent else { return }
            heap.swapAt(parent, worst)
            parent = worst
        }
    }

    /// The softmax of the candidates' logits, in their order.
    static func probabilities(_ candidates: [Candidate]) -> [Double] {
        guard let maxLogit = candidates.map(\.logit).max(), maxLogit > -.infinity else {
            return Array(repeating: 1 / Double(max(candidates.count, 1)), count: candidates.count)
        }
        let weights = candidates.map { Double(exp($0.logit - maxLogit)) }
        let sum = weights.reduce(0, +)
        return weights.map { $0 / sum }
    }

    /// llama.cpp `top_p`: keep the best candidates (sorted, best first) until their probabilities
    /// sum to at least `p`.
    static func topP(_ candidates: inout [Candidate], _ p: Float) {
        guard p < 1, !candidates.isEmpty else { return }
        let probabilities = probabilities(candidates)
        var sum = 0.0
        for (index, probability) in probabilities.enumerated() {
            sum += probability
            if sum >= Double(p) {
                candidates.removeSubrange((index + 1)...)
                return
            }
        }
    }

    /// llama.cpp `min_p`: keep candidates (sorted, best first) whose probability is at least
    /// `p` times the best one's, i.e. logit ≥ best logit + ln p.
    static func minP(_ candidates: inout [Candidate], _ p: Float) {
        guard p > 0, let best = candidates.first?.logit else { return }
        let threshold = best + log(p)
        let kept = candidates.prefix { $0.logit >= threshold }.count
        candidates.removeSubrange(max(kept, 1)...)
    }

    /// Draws one candidate with probability softmax(logit).
    private mutating func draw(from candidates: [Candidate]) -> Int32 {
        let probabilities = Self.probabilities(candidates)
        let target = random.nextUnitDouble()
        var sum = 0.0
        for (candidate, probability) in zip(candidates, probabilities) {
            sum += probability
            if target < sum { return candidate.token }
        }
        return candidates[candidates.count - 1].token  // rounding left the sum just under 1
    }
}
