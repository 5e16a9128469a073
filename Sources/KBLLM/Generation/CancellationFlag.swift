import Foundation

/// A flag another thread sets to stop a generation; the ``Generator`` checks it before each
/// token and then returns what it has with ``FinishReason/cancelled``.
public final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false  // guarded by `lock`

    public init() {}

    /// Asks the generation to stop.
    public func cancel() { lock.withLock { cancelled = true } }

    /// Whether ``cancel()`` was called.
    public var isCancelled: Bool { lock.withLock { cancelled } }
}
