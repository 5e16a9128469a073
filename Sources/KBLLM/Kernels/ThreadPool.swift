import Foundation

/// A fixed set of worker threads that run data-parallel loops for the inference kernels.
///
/// Every matrix product of a forward pass is split over the pool; `threadCount` is the number of
/// cores the engine may use (`kb generate --threads`). With one thread the loop runs inline.
public final class ThreadPool: @unchecked Sendable {
    /// How many threads share each loop (at least 1).
    public let threadCount: Int

    /// Creates a pool of `threads` workers (clamped to at least 1).
    public init(threads: Int) {
        threadCount = max(1, threads)
    }

    /// Calls `body(task)` for every task in `0..<count`, spread over the pool's threads, and
    /// returns when all calls have returned. `body` must be safe to call concurrently.
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        guard count > 0 else { return }
        if threadCount == 1 || count == 1 {
            for task in 0..<count { body(task) }
            return
        }
        let workers = min(threadCount, count)
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedBody(body)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                var task = worker
                while task < count {
                    shared.body(task)
                    task += workers
                }
            }
        }
    }
}

/// Hands a loop body to the workers; `parallelFor` requires the body to be safe to call
/// concurrently and does not return before every call has.
private struct UncheckedBody: @unchecked Sendable {
    let body: (Int) -> Void
    init(_ body: @escaping (Int) -> Void) { self.body = body }
}
