import COpenBLAS
import Foundation

/// Runs work with OpenBLAS single-threaded while kb's own threads split it.
///
/// OpenBLAS's thread count is one process-wide setting. When several threads each call `sgemm`
/// while OpenBLAS also runs threads of its own, the two kinds compete for the cores: measured on
/// 2 cores, embedding ran 3.5x slower than with single-threaded OpenBLAS. ``singleThreaded(_:)``
/// lowers the setting to 1 for the duration of the work and restores it when the last
/// overlapping caller leaves, so code that calls BLAS from one thread (a vector search) keeps
/// OpenBLAS's threads the rest of the time.
enum BLASThreads {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var holders = 0  // guarded by `lock`
    nonisolated(unsafe) private static var saved: Int32 = 1  // guarded by `lock`

    /// Runs `body` with OpenBLAS limited to one thread.
    static func singleThreaded<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        if holders == 0 {
            saved = openblas_get_num_threads()
            if saved != 1 { openblas_set_num_threads(1) }
        }
        holders += 1
        lock.unlock()
        defer {
            lock.lock()
            holders -= 1
            if holders == 0 && saved != 1 { openblas_set_num_threads(saved) }
            lock.unlock()
        }
        return try body()
    }
}
