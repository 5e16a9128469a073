import Foundation

/// A value shared between threads, behind a lock: kb's one idiom for shared mutable state.
///
/// Every access goes through ``withLock(_:)``, so the value is never read or written unguarded,
/// and the wrapper is `Sendable` for `Sendable` values (no `@unchecked` at the use site). A lock
/// that guards a region of work rather than a value (the server's write lock) stays an `NSLock`
/// taken with `withLock`.
public final class Locked<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value   // guarded by `lock`

    public init(_ value: Value) { self.value = value }

    /// Runs `body` with the value, exclusively.
    public func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }

    /// A copy of the value.
    public var current: Value { withLock { $0 } }
}
