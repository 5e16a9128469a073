import KBSupport

/// One generation slot of the ``GenerationQueue``, held by one request from the moment it is taken
/// until its last byte is written, and given back exactly once.
///
/// The request that took it gives it back through ``release(seconds:)`` when its generation ends.
/// Should that never happen — a streamed response whose body never runs because the client reset
/// the connection before the head was written, or any error between taking the slot and
/// generating — the slot goes back when the last reference to it goes (the response body closure
/// that captured it is dropped), so no path can leak a slot.
final class GenerationSlot: Sendable {
    private let queue: GenerationQueue
    private let released = Locked(false)

    /// Wraps a slot already taken from `queue` (``GenerationQueue/acquire()`` returned).
    init(takenFrom queue: GenerationQueue) {
        self.queue = queue
    }

    /// Gives the slot back; later calls do nothing.
    /// - Parameter seconds: how long the generation took, for the queue's Retry-After estimate.
    func release(seconds: Double? = nil) {
        let first = released.withLock { released -> Bool in
            defer { released = true }
            return !released
        }
        if first { queue.release(seconds: seconds) }
    }

    /// Whether the slot was given back.
    var isReleased: Bool { released.current }

    deinit {
        release()
    }
}
