import GRDB

/// One read transaction on a ``KBDatabase``: every operation sees the same snapshot of the
/// file, however many writes commit meanwhile. Obtained from ``KBDatabase/read(_:)`` and valid
/// only inside that call.
///
/// The operations are named for what they answer and return record types (``DocumentRecord``,
/// ``ChunkRecord``, ``EmbeddingModelRecord``…), never SQL rows: the store is the only module that
/// speaks SQL, so a second backend has one set of operations to provide. They live in extensions by
/// concern (`StoreReader+Documents`, `+Embeddings`, `+Search`).
public class StoreReader {
    /// The transaction's connection (GRDB runs the block on the calling thread).
    let db: Database

    init(_ db: Database) { self.db = db }
}

/// One write transaction: the reader's operations and the writes, committed together when the
/// block of ``KBDatabase/write(_:)`` returns, rolled back when it throws. Writes keep the
/// store's invariants themselves (e.g. index rows are deleted before the chunks they were derived
/// from), so callers only say what to store or delete.
public final class StoreWriter: StoreReader {}

extension KBDatabase {
    /// Runs `body` in a read transaction (WAL snapshot; never waits for a writer).
    /// - Throws: what `body` throws, and database errors.
    public func read<T>(_ body: (StoreReader) throws -> T) throws -> T {
        try pool.read { db in try body(StoreReader(db)) }
    }

    /// Runs `body` in the write transaction (one writer at a time, other processes waited for up to
    /// ``busyTimeout``); it commits when `body` returns.
    /// - Throws: what `body` throws (nothing is written then), and database errors.
    public func write<T>(_ body: (StoreWriter) throws -> T) throws -> T {
        try pool.write { db in try body(StoreWriter(db)) }
    }
}
