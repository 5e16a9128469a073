import COpenBLAS
import Foundation
import KBSupport

/// Runs work with OpenBLAS single-threaded while kb's own threads split it.
///
/// OpenBLAS's thread count is one process-wide setting. When several threads each call `sgemm`
/// while OpenBLAS also runs threads of its own, the two kinds compete for the cores: measured on
/// 2 cores, embedding ran 3.5x slower than with single-threaded OpenBLAS. ``singleThreaded(_:)``
/// lowers the setting to 1 for the duration of the work and restores it when the last
/// overlapping caller leaves, so code that calls BLAS from one thread (a vector search) keeps
/// OpenBLAS's threads the rest of the time.
enum BLASThreads {
    /// Callers inside ``singleThreaded(_:)`` now, and the thread count to restore when the last leaves.
    private static let state = Locked((holders: 0, saved: Int32(1)))

    /// Runs `body` with OpenBLAS limited to one thread.
    static func singleThreaded<T>(_ body: () throws -> T) rethrows -> T {
        state.withLock { state in
            if state.holders == 0 {
                state.saved = openblas_get_num_threads()
                if state.saved != 1 { openblas_set_num_threads(1) }
            }
            state.holders += 1
        }
        defer {
            state.withLock { state in
                state.holders -= 1
                if state.holders == 0 && state.saved != 1 { openblas_set_num_threads(state.saved) }
            }
        }
        return try body()
    }
}
