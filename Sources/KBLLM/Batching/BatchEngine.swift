import Foundation
import KBSupport

/// Continuous batching: one thread runs the forward passes of every request of a model, each pass
/// over the new tokens of many sequences at once (``Transformer``), with their keys and values in
/// the model's ``KVBlockPool``.
///
/// A request is a ``BatchedSession``: its own thread runs the ``Generator`` loop (sampling, stop
/// strings, text) and each call for logits waits for the pass that computes them. Every step
/// the scheduler (vLLM V1's rule, on a token budget) takes one token of each generating sequence
/// first, then chunks of prompts — of sequences already admitted, then of waiting requests in
/// arrival order, admitted while fewer than ``Settings/maxRunning`` run and the pool has blocks —
/// so a long new prompt never stalls the streams already answering. A waiting request reuses the
/// longest cached prefix of its prompt (shared blocks, never copied). When a generating sequence
/// needs a block and the pool has none, the newest running sequence is preempted: its blocks go
/// back and it is recomputed later (its prompt blocks usually stay cached); its random state lives
/// with its sampler, so its output does not change. A cancelled request leaves at the next step
/// and its blocks go back at once.
///
/// Batch invariance: prompt tokens are evaluated in llama.cpp's batched order and generated tokens
/// in its single-token order (``ForwardSegment/Order``) whatever else runs in the pass and however
/// a prompt is split, so a request's output is the same alone or beside others.
public final class BatchEngine: @unchecked Sendable {
    /// Scheduler settings.
    public struct Settings: Sendable {
        /// Sequences evaluated together at most (default 16).
        public var maxRunning: Int
        /// Tokens per forward pass at most while no sequence is generating: prompt chunks
        /// (default 256).
        public var tokenBudget: Int
        /// Tokens per forward pass at most while sequences are generating: one per generating
        /// sequence, the rest prompt chunks (default 64). A pass's time is about its token count
        /// times the cost of a prompt token (3 ms for Qwen2.5-0.5B on 2 cores), so this bounds the
        /// gap a new prompt puts between the tokens of running streams; larger prefills faster.
        public var generatingTokenBudget: Int
        /// How long a step waits for the sequences it just served to hand in their next token
        /// before running without them (milliseconds; default 10).
        public var gatherMilliseconds: Int

        public init(maxRunning: Int = 16, tokenBudget: Int = 256, generatingTokenBudget: Int = 64, gatherMilliseconds: Int = 10) {
            self.maxRunning = max(1, maxRunning)
            self.tokenBudget = max(1, tokenBudget)
            self.generatingTokenBudget = max(1, min(generatingTokenBudget, self.tokenBudget))
            self.gatherMilliseconds = max(0, gatherMilliseconds)
        }
    }

    /// The model.
    public let model: LanguageModel
    /// The scheduler settings.
    public let settings: Settings
    private let threads: ThreadPool
    private let condition = NSCondition()
    // Under `condition`'s lock:
    private var waiting: [Request] = []
    private var running: [Request] = []
    /// Requests served by the last step that have not handed in their next tokens yet.
    private var awaitingReply: Set<ObjectIdentifier> = []
    private var loopRunning = false
    private var stats = BatchStatistics()
    private var nextID: UInt64 = 0

    /// - Parameters:
    ///   - model: the model; its ``LanguageModel/kvPool`` holds every sequence.
    ///   - settings: the scheduler's settings.
    ///   - threads: the threads of the forward passes (default the model's).
    public init(model: LanguageModel, settings: Settings = Settings(), threads: ThreadPool? = nil) {
        self.model = model
        self.settings = settings
        self.threads = threads ?? model.threadPool
    }

    /// A new request. Use it from one thread; ``BatchedSession/close()`` it when done.
    /// - Parameters:
    ///   - contextLength: the most tokens it may hold (default the model's).
    ///   - cancellation: checked while the request waits; a cancelled request's call throws
    ///     ``InferenceError/cancelled``.
    public func makeSession(contextLength: Int? = nil, cancellation: CancellationFlag? = nil) -> BatchedSession {
        let id = condition.withLock { () -> UInt64 in
            nextID += 1
            return nextID
        }
        let request = Request(id: id, sequence: KVSequence(pool: model.kvPool, capacity: contextLength ?? model.defaultContextLength),
                              cancellation: cancellation)
        return BatchedSession(engine: self, request: request)
    }

    /// A snapshot of the counters.
    public var statistics: BatchStatistics {
        condition.withLock {
            var s = stats
            s.running = running.count
            s.waiting = waiting.count
            return s
        }
    }

    // MARK: - Requests

    /// One request's state, owned by the engine's lock.
    final class Request {
        let id: UInt64
        let sequence: KVSequence
        let cancellation: CancellationFlag?
        /// Every token handed in: the sequence holds keys and values of `history[0..<sequence.count]`.
        var history: [Int32] = []
        /// How many of `history` are prompt tokens (the rest were generated).
        var promptCount = 0
        /// The logits of the last hand-in, or why there are none.
        var result: Result<[Float], any Error>?
        /// Prompt tokens reused from cached blocks at the last admission.
        var reusedTokens = 0
        var cancelRequested = false
        var closed = false

        init(id: UInt64, sequence: KVSequence, cancellation: CancellationFlag?) {
            self.id = id
            self.sequence = sequence
            self.cancellation = cancellation
        }

        var pendingCount: Int { history.count - sequence.count }
    }

    /// Hands in `tokens` for `request` (a new prompt when `prompt`, else generated tokens) and
    /// waits for the logits after them.
    func submit(_ request: Request, tokens: [Int32], prompt: Bool) throws -> [Float] {
        condition.lock()
        defer { condition.unlock() }
        precondition(!request.closed, "a closed session")
        if prompt {
            // A new prompt: the previous state goes back (published blocks stay cached).
            remove(request)
            request.sequence.release()
            request.history = tokens
            request.promptCount = tokens.count
            waiting.append(request)
        } else {
            request.history += tokens
            if !running.contains(where: { $0 === request }) && !waiting.contains(where: { $0 === request }) {
                waiting.append(request)
            }
        }
        request.result = nil
        awaitingReply.remove(ObjectIdentifier(request))
        startLoopIfNeeded()
        condition.broadcast()
        while request.result == nil {
            if request.cancellation?.isCancelled == true && !request.cancelRequested {
                request.cancelRequested = true
                condition.broadcast()
            }
            _ = condition.wait(until: Date(timeIntervalSinceNow: 0.05))
        }
        return try request.result!.get()
    }

    /// Prompt tokens the request took from cached blocks at its last admission.
    func reusedTokens(of request: Request) -> Int { condition.withLock { request.reusedTokens } }

    /// The request is done: its blocks go back to the pool.
    func close(_ request: Request) {
        condition.withLock {
            guard !request.closed else { return }
            request.closed = true
            remove(request)
            request.sequence.release()
            condition.broadcast()
        }
    }

    /// Takes `request` out of the queues (under the lock).
    private func remove(_ request: Request) {
        running.removeAll { $0 === request }
        waiting.removeAll { $0 === request }
        awaitingReply.remove(ObjectIdentifier(request))
    }

    // MARK: - The loop

    private func startLoopIfNeeded() {
        guard !loopRunning else { return }
        loopRunning = true
        let thread = Thread { [self] in loop() }
        thread.name = "kb-batch-engine"
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Steps while there is work; the thread ends after a second with no request (a new one starts it again).
    private func loop() {
        condition.lock()
        var idleSince = Date()
        while true {
            dropCancelled()
            let gatherDeadline = Date(timeIntervalSinceNow: Double(settings.gatherMilliseconds) / 1000)
            while !awaitingReply.isEmpty && Date() < gatherDeadline {
                _ = condition.wait(until: gatherDeadline)
                dropCancelled()
            }
            awaitingReply.removeAll()
            guard let plan = makePlan() else {
                if running.isEmpty && waiting.isEmpty && Date().timeIntervalSince(idleSince) > 1 {
                    loopRunning = false
                    condition.unlock()
                    return
                }
                _ = condition.wait(until: Date(timeIntervalSinceNow: 0.05))
                continue
            }
            idleSince = Date()
            condition.unlock()
            let started = ContinuousClock.now
            // Logit rows as llama.cpp evaluates a sequence's one logit row: single-row products.
            let logitOrders = [RowOrder](repeating: .single, count: plan.segments.reduce(0) { $0 + $1.logitRows })
            let outcome = Result { try model.transformer.forward(plan.segments, logitOrders: logitOrders, pool: threads) }
            let seconds = (ContinuousClock.now - started).seconds
            condition.lock()
            finish(plan, outcome: outcome, seconds: seconds)
        }
    }

    /// Answers cancelled requests and gives their blocks back (under the lock, between passes).
    private func dropCancelled() {
        for request in running + waiting where request.cancelRequested || request.cancellation?.isCancelled == true {
            remove(request)
            request.sequence.release()
            request.result = .failure(InferenceError.cancelled)
            stats.cancelled += 1
            condition.broadcast()
        }
    }

    /// One forward pass's work.
    private struct Plan {
        var segments: [ForwardSegment] = []
        /// For each segment: its request, and whether the segment ends the request's hand-in (its logits are returned).
        var owners: [(request: Request, completes: Bool)] = []
        var tokens = 0
    }

    /// Chooses the next pass (under the lock), or nil when there is nothing to run.
    private func makePlan() -> Plan? {
        let pool = model.kvPool
        // Generating sequences first: each needs a block when its next token starts one; if the
        // pool has too few, preempt the newest running sequences.
        func decoding(_ r: Request) -> Bool { r.pendingCount > 0 && r.sequence.count >= r.promptCount }
        while true {
            let generating = running.filter(decoding)
            let needed = generating.reduce(0) { total, r in
                let size = pool.blockTokens
                return total + (r.sequence.count + r.pendingCount + size - 1) / size - r.sequence.blocks.count
            }
            guard needed > pool.availableBlocks, running.count > 1 else { break }
            preempt(running.last!)
        }
        var plan = Plan()
        var generated: [ForwardSegment] = [], prompts: [ForwardSegment] = []
        var generatedOwners: [(Request, Bool)] = [], promptOwners: [(Request, Bool)] = []
        // A smaller budget while sequences generate (past their prompt): their next tokens wait for the pass.
        let generatingNow = running.contains { $0.sequence.count >= $0.promptCount && $0.sequence.count > 0 }
        var budget = generatingNow ? settings.generatingTokenBudget : settings.tokenBudget

        func take(_ r: Request) -> Bool {
            let start = r.sequence.count
            let promptEnd = max(start, r.promptCount)
            let promptPart = min(r.history.count, promptEnd) - start
            let chunk = min(promptPart, budget)
            let rest = promptPart > chunk ? 0 : min(r.history.count - promptEnd, max(budget - chunk, promptPart == 0 ? 1 : 0))
            let total = chunk + rest
            guard total > 0, r.sequence.reserve(adding: total) else { return false }
            budget -= total
            let completes = start + total == r.history.count
            if chunk > 0 {
                let layout = PromptLayout(promptCount: r.promptCount)
                let pieces = layout.pieces(start..<start + chunk)
                for (index, piece) in pieces.enumerated() {
                    let last = index == pieces.count - 1 && completes && rest == 0
                    prompts.append(ForwardSegment(tokens: r.history[piece.positions], start: piece.positions.lowerBound,
                                                  sequence: r.sequence, rowOrders: piece.orders,
                                                  singleTokenAttention: piece.singleTokenAttention, logitRows: last ? 1 : 0))
                    promptOwners.append((r, last))
                }
            }
            if rest > 0 {
                generated.append(ForwardSegment(tokens: r.history[start + chunk..<start + total], start: start + chunk,
                                                sequence: r.sequence, rowOrders: Array(repeating: .single, count: rest),
                                                singleTokenAttention: true, logitRows: completes ? 1 : 0))
                generatedOwners.append((r, completes))
            }
            return true
        }

        for r in running where decoding(r) { _ = take(r) }
        for r in running where r.pendingCount > 0 && !decoding(r) && budget > 0 { _ = take(r) }
        while budget > 0, running.count < settings.maxRunning, let next = waiting.first {
            let limit = min(next.promptCount, next.history.count - 1)
            next.reusedTokens = next.sequence.adoptCachedPrefix(of: next.history[...], maxTokens: limit)
            stats.prefixHitTokens += next.reusedTokens
            guard take(next) else {
                next.sequence.release()
                break
            }
            waiting.removeFirst()
            running.append(next)
        }
        if generated.isEmpty && prompts.isEmpty {
            // Running sequences hold every block and none can go on: free the newest.
            if running.count > 1 && running.contains(where: { $0.pendingCount > 0 }) {
                preempt(running.last!)
                return makePlan()
            }
            if let only = running.first, only.pendingCount > 0, running.count == 1 {
                remove(only)
                only.sequence.release()
                only.result = .failure(InferenceError.kvPoolFull(needed: only.pendingCount, poolBytes: pool.byteCount))
                condition.broadcast()
            }
            return nil
        }
        plan.segments = generated + prompts
        plan.owners = (generatedOwners + promptOwners).map { (request: $0.0, completes: $0.1) }
        plan.tokens = plan.segments.reduce(0) { $0 + $1.tokens.count }
        return plan
    }

    /// Frees a running sequence's blocks and puts it first in line to be recomputed (under the lock).
    private func preempt(_ request: Request) {
        running.removeAll { $0 === request }
        request.sequence.release()
        waiting.insert(request, at: 0)
        model.kvPool.countPreemption()
        stats.preemptions += 1
    }

    /// Records a pass's results (under the lock).
    private func finish(_ plan: Plan, outcome: Result<[[Float]], any Error>, seconds: Double) {
        stats.steps += 1
        stats.stepTokens += plan.tokens
        stats.stepSeconds += seconds
        stats.lastStepTokens = plan.tokens
        stats.lastStepSeconds = seconds
        for (segment, owner) in zip(plan.segments, plan.owners) {
            let prompt = max(0, min(segment.tokens.endIndex, owner.request.promptCount) - segment.start)
            stats.promptTokens += prompt
            stats.generatedTokens += segment.tokens.count - prompt
        }
        switch outcome {
        case .success(let logits):
            // In position order: a recomputed request's prompt piece comes after its generated segment in the plan.
            for index in plan.segments.indices.sorted(by: { plan.segments[$0].start < plan.segments[$1].start }) {
                let owner = plan.owners[index]
                let request = owner.request
                precondition(plan.segments[index].start == request.sequence.count, "segments are recorded in position order")
                request.sequence.append(plan.segments[index].tokens)
                request.sequence.publish(prefix: request.promptCount)
                if owner.completes {
                    request.result = .success(logits[index])
                    awaitingReply.insert(ObjectIdentifier(request))
                }
            }
        case .failure(let error):
            for owner in plan.owners {
                remove(owner.request)
                owner.request.sequence.release()
                owner.request.result = .failure(error)
            }
        }
        condition.broadcast()
    }
}

/// The orders llama.cpp gives the rows of a prompt of `promptCount` tokens computed from its
/// start: in batches of 512, each batch's rows as ``RowOrder/llamaCpp(batch:)`` gives them,
/// single-token attention for a batch of one. Every prompt row takes these orders whatever chunks
/// the scheduler cuts and whatever prefix was cached (a cached block of a prompt of 8 tokens or
/// more holds what this prompt would compute), so a request computes what ``InferenceSession``
/// (llama.cpp) computes from a cold start, alone or not, cached or not.
struct PromptLayout {
    var promptCount: Int
    static let batch = 512

    /// Consecutive positions of one llama.cpp batch, with their orders.
    struct Piece: Equatable {
        var positions: Range<Int>
        var orders: [RowOrder]
        var singleTokenAttention: Bool
    }

    /// `positions` (prompt positions) cut at llama.cpp's batch boundaries.
    func pieces(_ positions: Range<Int>) -> [Piece] {
        var pieces: [Piece] = []
        var p = positions.lowerBound
        while p < positions.upperBound {
            let batchStart = p / Self.batch * Self.batch
            let batchEnd = min(promptCount, batchStart + Self.batch)
            let end = min(positions.upperBound, batchEnd)
            let orders = RowOrder.llamaCpp(batch: batchEnd - batchStart)
            pieces.append(Piece(positions: p..<end, orders: Array(orders[(p - batchStart)..<(end - batchStart)]),
                                singleTokenAttention: batchEnd - batchStart == 1))
            p = end
        }
        return pieces
    }
}

/// Counters of a ``BatchEngine`` (a snapshot).
public struct BatchStatistics: Sendable, Equatable {
    /// Sequences admitted and not finished.
    public var running = 0
    /// Requests waiting to be admitted (new, or preempted).
    public var waiting = 0
    /// Forward passes run.
    public var steps = 0
    /// Tokens evaluated over all passes, and the seconds the passes took.
    public var stepTokens = 0
    public var stepSeconds = 0.0
    /// The last pass's tokens and seconds.
    public var lastStepTokens = 0
    public var lastStepSeconds = 0.0
    /// Prompt tokens computed, and generated tokens evaluated.
    public var promptTokens = 0
    public var generatedTokens = 0
    /// Prompt tokens taken from cached blocks at admission.
    public var prefixHitTokens = 0
    /// Sequences preempted (blocks freed, recomputed later).
    public var preemptions = 0
    /// Requests cancelled while running or waiting.
    public var cancelled = 0

    public init() {}
}
