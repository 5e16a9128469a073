import Foundation
import KBSupport

/// Bounds the generations running at once and the ones waiting for a slot. A request that finds
/// the waiting room full is refused at once (the server answers 429 with `Retry-After`) instead of
/// queueing without bound; a waiting request whose task is cancelled leaves the queue. When the
/// server shuts down, ``close()`` turns every waiting and later request away with ``Closed``.
public final class GenerationQueue: Sendable {
    /// The waiting room was full.
    public struct Full: Error {
        /// Suggested seconds before trying again.
        public var retryAfter: Int
    }

    /// The queue was closed (the server is shutting down).
    public struct Closed: Error {}

    private struct State {
        var active = 0
        var waiting: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        var nextID: UInt64 = 0
        var closed = false
        /// Exponential moving average of generation seconds, for Retry-After.
        var averageSeconds = 5.0
    }

    public let maxConcurrent: Int
    public let maxWaiting: Int
    private let state = Locked(State())
    private let onChange: @Sendable (_ waiting: Int, _ active: Int) -> Void

    /// - Parameters:
    ///   - maxConcurrent: generations running at once (at least 1).
    ///   - maxWaiting: requests that may wait for a slot; beyond that ``acquire()`` throws ``Full``.
    ///   - onChange: told the queue depth and active count after every change (metrics).
    public init(maxConcurrent: Int, maxWaiting: Int, onChange: @escaping @Sendable (Int, Int) -> Void = { _, _ in }) {
        self.maxConcurrent = max(1, maxConcurrent)
        self.maxWaiting = max(0, maxWaiting)
        self.onChange = onChange
    }

    /// Waits for a slot.
    /// - Throws: ``Full`` when the waiting room is full; ``Closed`` after ``close()``;
    ///   `CancellationError` when cancelled while waiting.
    public func acquire() async throws {
        let id: UInt64? = try state.withLock { state in
            if state.closed { throw Closed() }
            if state.active < maxConcurrent && state.waiting.isEmpty {
                state.active += 1
                return nil
            }
            guard state.waiting.count < maxWaiting else {
                let retry = state.averageSeconds * Double(state.waiting.count + 1) / Double(maxConcurrent)
                throw Full(retryAfter: max(1, Int(retry.rounded(.up))))
            }
            state.nextID += 1
            return state.nextID
        }
        guard let id else {
            report()
            return
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let refusal = state.withLock { state -> (any Error)? in
                    if Task.isCancelled { return CancellationError() }
                    if state.closed { return Closed() }
                    state.waiting.append((id, continuation))
                    return nil
                }
                if let refusal { continuation.resume(throwing: refusal) }
                report()
            }
        } onCancel: {
            let continuation = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard let index = state.waiting.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiting.remove(at: index).continuation
            }
            continuation?.resume(throwing: CancellationError())
            report()
        }
    }

    /// Gives a slot back (to the longest-waiting request, if any).
    /// - Parameter seconds: how long the generation took, for the Retry-After estimate.
    public func release(seconds: Double? = nil) {
        let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            if let seconds { state.averageSeconds = 0.8 * state.averageSeconds + 0.2 * seconds }
            if state.waiting.isEmpty {
                state.active -= 1
                return nil
            }
            return state.waiting.removeFirst().continuation   // the slot passes on; active is unchanged
        }
        next?.resume()
        report()
    }

    /// Refuses every waiting request (they throw ``Closed``) and every later ``acquire()``. Slots
    /// already taken stay taken until released.
    public func close() {
        let waiting = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
            state.closed = true
            defer { state.waiting.removeAll() }
            return state.waiting.map(\.continuation)
        }
        for continuation in waiting { continuation.resume(throwing: Closed()) }
        report()
    }

    /// Requests waiting and generations running now.
    public var counts: (waiting: Int, active: Int) {
        state.withLock { ($0.waiting.count, $0.active) }
    }

    private func report() {
        let (waiting, active) = counts
        onChange(waiting, active)
    }
}
