import GRDB

/// Tells whether another connection committed to the database file: `PRAGMA data_version` read on
/// a connection of its own (the counter does not move for the connection's own commits), for a
/// server that follows writes made by other processes.
public final class StoreChangeCounter: Sendable {
    private let connection: DatabaseQueue

    init(path: String) throws {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        connection = try DatabaseQueue(path: path, configuration: configuration)
    }

    /// The counter now; it changes whenever another connection commits.
    public func value() throws -> Int {
        try connection.inDatabase { db in try Int.fetchOne(db, sql: "PRAGMA data_version") ?? 0 }
    }
}

extension KBDatabase {
    /// A change counter on a connection of its own to this store's file.
    public func changeCounter() throws -> StoreChangeCounter { try StoreChangeCounter(path: path) }
}
