import Foundation
import KBSupport
import GRDB
import GRDBSQLite

/// Stops a caller's SQLite work when nobody waits for its result any more (a request timed out or
/// its client left).
///
/// Every connection of a ``KBDatabase`` has an SQLite progress handler that looks, every
/// ``instructionsBetweenChecks`` virtual-machine instructions, at the interrupt the current thread runs
/// under (``run(_:)``); once it is cancelled the statement stops with `SQLITE_INTERRUPT`, an open
/// write transaction is rolled back, and ``run(_:)`` throws `CancellationError`. Only the work of the
/// thread inside ``run(_:)`` stops: other requests on other connections go on (unlike
/// `sqlite3_interrupt`, which would stop everything on a connection, and GRDB's `interrupt()`,
/// which stops every connection of the pool).
///
/// GRDB runs a synchronous `read`/`write` block on the calling thread, which is what makes a
/// per-thread flag reach the connection the block uses.
public final class StoreInterrupt: Sendable {
    /// SQLite virtual-machine instructions between two looks at the flag (a few microseconds of work).
    public static let instructionsBetweenChecks: Int32 = 1000

    private let cancelled = Locked(false)

    public init() {}

    /// Whether ``cancel()`` was called.
    public var isCancelled: Bool { cancelled.current }

    /// Stops the work running under this interrupt at its next check, and any work started under it later.
    /// Callable from any thread.
    public func cancel() {
        cancelled.withLock { $0 = true }
    }

    /// Runs `work` on this thread with the interrupt watched by every SQLite statement it steps.
    /// - Throws: `CancellationError` when the interrupt stopped the work (or was cancelled before it
    ///   began); otherwise whatever `work` throws.
    public func run<T>(_ work: () throws -> T) throws -> T {
        if isCancelled { throw CancellationError() }
        let previous = pthread_getspecific(currentInterruptKey)
        pthread_setspecific(currentInterruptKey, Unmanaged.passUnretained(self).toOpaque())
        defer { pthread_setspecific(currentInterruptKey, previous) }
        do {
            return try work()
        } catch let error as DatabaseError where error.resultCode == .SQLITE_INTERRUPT && isCancelled {
            throw CancellationError()
        }
    }

    /// Throws `CancellationError` when the current thread runs under a cancelled interrupt: a check
    /// for the points between statements (e.g. before a write transaction begins).
    public static func checkCurrent() throws {
        guard let raw = pthread_getspecific(currentInterruptKey) else { return }
        if Unmanaged<StoreInterrupt>.fromOpaque(raw).takeUnretainedValue().isCancelled { throw CancellationError() }
    }

    /// Installs the progress handler on a connection (``KBDatabase`` does it for each of its own).
    static func install(on db: Database) {
        sqlite3_progress_handler(db.sqliteConnection, instructionsBetweenChecks, { _ in
            guard let raw = pthread_getspecific(currentInterruptKey) else { return 0 }
            return Unmanaged<StoreInterrupt>.fromOpaque(raw).takeUnretainedValue().isCancelled ? 1 : 0
        }, nil)
    }
}

/// The thread's current ``StoreInterrupt`` (unretained: ``StoreInterrupt/run(_:)`` keeps it alive).
private let currentInterruptKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
}()
