import Foundation
import GRDB
// Re-exported: the store's users hash documents with ContentHash.
@_exported import KBSupport

/// One kb database file: documents, chunks, the full-text index and embeddings.
///
/// Opening validates the file before anything is written to it: a file that is not SQLite, an SQLite
/// file of another program, or a database from a newer kb is rejected with a ``StoreError`` and left
/// untouched. Writes go through one `DatabasePool` in WAL mode, so readers (a running server) keep
/// answering while an ingest commits batches.
public final class KnowledgeStore: Sendable {
    /// How to open the file.
    public enum Mode: Sendable {
        /// Open for reading and writing; create and initialise the file if it does not exist.
        case readWrite
        /// Open an existing database for reading only.
        case readOnly
    }

    /// Seconds a connection waits for another process's lock (e.g. an ingest committing a batch).
    static let busyTimeout: TimeInterval = 30

    /// Path of the database file as given.
    public let path: String
    /// The connection pool: one writer, concurrent readers.
    public let pool: DatabasePool

    /// Opens (and if needed creates and migrates) the database at `path`.
    /// - Parameters:
    ///   - path: the SQLite file.
    ///   - mode: ``Mode/readWrite`` creates a missing file; ``Mode/readOnly`` requires an existing one.
    /// - Throws: ``StoreError`` naming the file and why it cannot be used.
    public init(path: String, mode: Mode = .readWrite) throws {
        self.path = path
        let fileManager = FileManager.default
        let size = (try? fileManager.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue
        if let size, size > 0 {
            try Self.requireSQLiteHeader(path: path)
            try Self.requireKnowledgeBase(path: path)
        } else if mode == .readOnly {
            throw StoreError.missing(path: path)
        } else {
            try Self.initialize(path: path)
        }
        do {
            var configuration = Configuration()
            configuration.readonly = (mode == .readOnly)
            configuration.busyMode = .timeout(Self.busyTimeout)
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw StoreError.openFailed(path: path, reason: "\(error)")
        }
        let migrator = Schema.migrator
        try pool.read { db in
            if try migrator.hasBeenSuperseded(db) {
                let known = Set(migrator.migrations)
                let unknown = try migrator.appliedIdentifiers(db).subtracting(known)
                throw StoreError.newerSchema(path: path, unknownMigrations: Array(unknown))
            }
        }
        if mode == .readWrite {
            do {
                try migrator.migrate(pool)
                try rebuildFullTextIndexIfSegmenterChanged()
            } catch let error as StoreError {
                throw error
            } catch {
                throw StoreError.openFailed(path: path, reason: "migration failed: \(error)")
            }
        }
    }

    /// Creates an empty database with kb's page size, application id and schema, then switches it to WAL.
    private static func initialize(path: String) throws {
        do {
            var configuration = Configuration()
            configuration.busyMode = .timeout(busyTimeout)
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            try queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA page_size = \(Schema.pageSize)")
                try db.execute(sql: "PRAGMA application_id = \(Schema.applicationID)")
            }
            try Schema.migrator.migrate(queue)
            try queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA journal_mode = WAL")
            }
            try queue.close()
        } catch {
            throw StoreError.openFailed(path: path, reason: "\(error)")
        }
    }

    private static func requireSQLiteHeader(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw StoreError.openFailed(path: path, reason: "permission denied")
        }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 16)) ?? Data()
        guard header == Data("SQLite format 3\u{0}".utf8) else { throw StoreError.notSQLite(path: path) }
    }

    /// Reads the application id without writing (a foreign database must not be switched to WAL).
    private static func requireKnowledgeBase(path: String) throws {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(busyTimeout)
        let (applicationID, tables): (Int32, [String])
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            (applicationID, tables) = try queue.read { db in
                let id = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
                let names = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                return (id, names)
            }
            try queue.close()
        } catch {
            throw StoreError.openFailed(path: path, reason: "\(error)")
        }
        if applicationID == Schema.applicationID { return }
        if applicationID != 0 {
            throw StoreError.notKnowledgeBase(path: path, detail: "its application_id is \(applicationID)")
        }
        if !tables.isEmpty {
            let shown = tables.prefix(5).joined(separator: ", ") + (tables.count > 5 ? ", …" : "")
            throw StoreError.notKnowledgeBase(path: path, detail: "it holds other tables: \(shown)")
        }
        // An empty SQLite file: safe to initialise.
        try initialize(path: path)
    }

    /// Re-derives every row of the contentless FTS index when ``FullTextSegmenter/version`` changed.
    private func rebuildFullTextIndexIfSegmenterChanged() throws {
        try pool.write { db in
            let recorded = try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'fts_segmenter'")
            guard recorded != FullTextSegmenter.version else { return }
            try FullTextIndex.rebuild(db)
            try db.execute(sql: "INSERT OR REPLACE INTO settings(key, value) VALUES ('fts_segmenter', ?)",
                           arguments: [FullTextSegmenter.version])
        }
    }

    /// Counts of stored rows, for `kb stats` and tests.
    public struct Statistics: Sendable, Codable, Equatable {
        public var documents: Int
        public var chunks: Int
        public var embeddings: Int
    }

    /// Current row counts.
    public func statistics() throws -> Statistics {
        try pool.read { db in
            Statistics(
                documents: try Int.fetchOne(db, sql: "SELECT count(*) FROM documents") ?? 0,
                chunks: try Int.fetchOne(db, sql: "SELECT count(*) FROM chunks") ?? 0,
                embeddings: try Int.fetchOne(db, sql: "SELECT count(*) FROM embeddings") ?? 0)
        }
    }

    /// Runs `PRAGMA integrity_check` and FTS5's own check; returns the problems found (empty when sound).
    public func integrityProblems() throws -> [String] {
        try pool.read { db in
            let rows = try String.fetchAll(db, sql: "PRAGMA integrity_check")
            return rows == ["ok"] ? [] : rows
        }
    }
}
