import CKBKernels

/// A fixed set of worker threads that run data-parallel loops for the inference kernels.
///
/// Every matrix product of a forward pass is split over the pool; `threadCount` is the number of
/// cores the engine may use (`kb generate --threads`). The workers are started once (in C,
/// `kb_pool_*`): after a loop they spin briefly for the next one, then sleep, so the ~170 loops of
/// a token cost microseconds of hand-off each. The calling thread runs tasks too. With one
/// thread the loop runs inline.
public final class ThreadPool: @unchecked Sendable {
    /// How many threads share each loop (at least 1).
    public let threadCount: Int
    /// The C pool with `threadCount - 1` workers; `nil` with one thread (or if threads could not
    /// be started, in which case loops run inline).
    private let pool: OpaquePointer?

    /// Creates a pool of `threads` threads (clamped to at least 1), the caller's included.
    public init(threads: Int) {
        threadCount = max(1, threads)
        pool = threadCount > 1 ? kb_pool_create(Int32(clamping: threadCount)) : nil
    }

    deinit {
        if let pool { kb_pool_destroy(pool) }
    }

    /// Calls `body(task)` for every task in `0..<count`, spread over the pool's threads, and
    /// returns when all calls have returned. `body` must be safe to call concurrently. Tasks are
    /// claimed one at a time, in increasing order. A loop started from inside a task (or while
    /// another thread's loop runs on this pool) runs inline on its calling thread.
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        guard count > 0 else { return }
        guard let pool, count > 1 else {
            for task in 0..<count { body(task) }
            return
        }
        withoutActuallyEscaping(body) { body in
            var loopBody = body
            withUnsafeMutablePointer(to: &loopBody) { context in
                kb_pool_run(pool, Int64(count), { context, task in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(task))
                }, context)
            }
        }
    }
}
