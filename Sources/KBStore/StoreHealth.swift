import Foundation
import KBSupport
import GRDB

/// The database file's health as this process has seen it. SQLite reports a damaged file
/// (`SQLITE_CORRUPT`, `SQLITE_NOTADB`) or a full disk (`SQLITE_FULL`) only to the statement that
/// meets it; ``record(_:)`` remembers it so that readiness checks (`GET /readyz`) report it to
/// everyone afterwards.
///
/// Corruption stays until the process restarts: the file must be restored or rebuilt. A full disk
/// clears when a later write commits (``writeCommitted()``): space was freed or the limit raised.
///
/// Thread-safe: any request may record while another reads.
public final class StoreHealth: Sendable {
    /// A problem that makes the database unfit to serve.
    public enum Problem: Sendable, Equatable {
        /// The file is damaged; `reason` is SQLite's message.
        case corrupt(reason: String)
        /// A write did not fit on the disk (or under the page limit); `reason` is SQLite's message.
        case full(reason: String)
    }

    /// The database file (named in the errors).
    public let path: String
    /// SQLite's messages for the corruption and the full disk seen, if any.
    private let seen = Locked<(corruption: String?, fullness: String?)>((nil, nil))

    /// - Parameter path: the database file.
    public init(path: String) {
        self.path = path
    }

    /// The problems seen so far and not cleared, corruption first; empty when healthy.
    public var problems: [Problem] {
        let (corruption, fullness) = seen.current
        return (corruption.map { [Problem.corrupt(reason: $0)] } ?? []) + (fullness.map { [Problem.full(reason: $0)] } ?? [])
    }

    /// Classifies an error a store operation threw. A corruption or full-disk error is remembered and
    /// returned as a ``StoreError`` (``StoreError/corrupt(path:reason:)``, ``StoreError/full(path:reason:)``)
    /// naming the file; any other error is returned unchanged.
    /// - Parameter error: what the operation threw.
    /// - Returns: the error to report to the caller.
    public func record(_ error: any Error) -> any Error {
        guard let classified = StoreError.classify(error, path: path) else { return error }
        seen.withLock { seen in
            switch classified {
            case .corrupt(_, let reason): seen.corruption = seen.corruption ?? reason
            case .full(_, let reason): seen.fullness = reason
            default: break
            }
        }
        return classified
    }

    /// A write transaction committed: the disk had room, so a remembered full disk is cleared.
    public func writeCommitted() {
        seen.withLock { $0.fullness = nil }
    }
}

extension StoreError {
    /// The store error for SQLite's corruption (`SQLITE_CORRUPT`, `SQLITE_NOTADB`) and full-disk
    /// (`SQLITE_FULL`) result codes, extended codes included; nil for any other error.
    /// - Parameters:
    ///   - error: an error thrown by a database access (a ``StoreError`` of those kinds passes through).
    ///   - path: the database file, named in the result.
    public static func classify(_ error: any Error, path: String) -> StoreError? {
        if let error = error as? StoreError {
            switch error {
            case .corrupt, .full: return error
            default: return nil
            }
        }
        guard let error = error as? DatabaseError else { return nil }
        let reason = error.message ?? "SQLite error \(error.extendedResultCode.rawValue)"
        switch error.resultCode {
        case .SQLITE_CORRUPT, .SQLITE_NOTADB: return .corrupt(path: path, reason: reason)
        case .SQLITE_FULL: return .full(path: path, reason: reason)
        default: return nil
        }
    }

    /// Whether `error` came from the database itself (SQLite), as opposed to the caller's own work
    /// inside a transaction: callers that report their inputs' problems and go on must not take a
    /// failed write for one.
    public static func isDatabaseError(_ error: any Error) -> Bool { error is DatabaseError }
}
