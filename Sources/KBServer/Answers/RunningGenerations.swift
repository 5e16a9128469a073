import KBSupport

/// The generations running now, so that a shutdown can cancel them all at once.
///
/// Each generation runs in a task of its own that registers here while it runs. ``cancelAll()``
/// marks the registry as shutting down and cancels every registered task; a generation that
/// registers afterwards is cancelled at once.
final class RunningGenerations: Sendable {
    private struct State {
        var tasks: [UInt64: @Sendable () -> Void] = [:]   // id -> cancels that generation's task
        var nextID: UInt64 = 0
        var shuttingDown = false
    }

    private let state = Locked(State())

    /// Whether ``cancelAll()`` was called.
    var isShuttingDown: Bool { state.withLock { $0.shuttingDown } }

    /// Generations registered now.
    var count: Int { state.withLock { $0.tasks.count } }

    /// Registers a running generation.
    /// - Parameter cancel: cancels it (called at most once, possibly at once when shutting down).
    /// - Returns: the id to pass to ``unregister(_:)``.
    func register(cancel: @escaping @Sendable () -> Void) -> UInt64 {
        let (id, cancelNow) = state.withLock { state -> (UInt64, Bool) in
            state.nextID += 1
            if state.shuttingDown { return (state.nextID, true) }
            state.tasks[state.nextID] = cancel
            return (state.nextID, false)
        }
        if cancelNow { cancel() }
        return id
    }

    /// Forgets a generation that has ended.
    func unregister(_ id: UInt64) {
        _ = state.withLock { $0.tasks.removeValue(forKey: id) }
    }

    /// Cancels every running generation and every one registered later.
    func cancelAll() {
        let cancels = state.withLock { state -> [@Sendable () -> Void] in
            state.shuttingDown = true
            return Array(state.tasks.values)
        }
        for cancel in cancels { cancel() }
    }
}
