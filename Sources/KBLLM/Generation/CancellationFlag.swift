import Foundation
import KBSupport

/// A flag another thread sets to stop a generation; the ``Generator`` checks it before each
/// token and then returns what it has with ``FinishReason/cancelled``.
public final class CancellationFlag: Sendable {
    private let cancelled = Locked(false)

    public init() {}

    /// Asks the generation to stop.
    public func cancel() { cancelled.withLock { $0 = true } }

    /// Whether ``cancel()`` was called.
    public var isCancelled: Bool { cancelled.current }
}
