import Foundation
import GRDB
import KBSupport

/// One kb database file: documents, chunks, the full-text index and embeddings.
///
/// Opening validates the file before anything is written to it: a file that is not SQLite, an SQLite
/// file of another program, or a database from a newer kb is rejected with a ``StoreError`` and left
/// untouched. Writes go through one `DatabasePool` in WAL mode, so readers (a running server) keep
/// answering while an ingest commits batches.
public final class KBDatabase: Sendable {
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
    /// The connection pool: one writer, concurrent readers. Not public: other modules use the
    /// store's named operations (``read(_:)``, ``write(_:)``); tests reach it with `@testable import`.
    let pool: DatabasePool
    /// Corruption and full-disk errors seen by this process (see ``StoreHealth``).
    public let health: StoreHealth

    /// Opens (and if needed creates and migrates) the database at `path`.
    /// - Parameters:
    ///   - path: the SQLite file.
    ///   - mode: ``Mode/readWrite`` creates a missing file; ``Mode/readOnly`` requires an existing one.
    /// - Throws: ``StoreError`` naming the file and why it cannot be used.
    public init(path: String, mode: Mode = .readWrite) throws {
        self.path = path
        self.health = StoreHealth(path: path)
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
                StoreInterrupt.install(on: db)
            }
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw StoreError.classify(error, path: path) ?? StoreError.openFailed(path: path, reason: "\(error)")
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
                throw StoreError.classify(error, path: path)
                    ?? StoreError.openFailed(path: path, reason: "migration failed: \(error)")
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
            throw StoreError.classify(error, path: path) ?? StoreError.openFailed(path: path, reason: "\(error)")
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

    /// The model whose vectors searches use, if any (one read).
    public func activeEmbeddingModel() throws -> EmbeddingModelRecord? {
        try read { try $0.activeEmbeddingModel() }
    }

    // MARK: - Checks

    /// Runs the smallest query (`SELECT 1`): whether the database answers at all.
    /// - Throws: the database error that stopped it.
    public func requireReadable() throws {
        _ = try pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    /// Runs `PRAGMA quick_check` (every page and b-tree of the file is read and its structure checked,
    /// but indexes are not compared with their tables): the check `kb serve` makes at start.
    ///
    /// - Complexity: reads the whole file once. A 100k-document base with vectors (1.3 GB): 0.7 s
    ///   from the page cache, 9 s from disk (ARCHITECTURE.md).
    /// - Throws: ``StoreError/corrupt(path:reason:)`` naming the file and SQLite's first findings
    ///   (also remembered in ``health``); other errors as ``StoreError/openFailed(path:reason:)``.
    public func requireIntact() throws {
        let findings: [String]
        do {
            findings = try pool.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check(10)") }
        } catch {
            // The check itself can stop at a page it cannot parse.
            guard case .corrupt(_, let reason)? = StoreError.classify(error, path: path) else {
                throw StoreError.openFailed(path: path, reason: "PRAGMA quick_check failed: \(error)")
            }
            throw health.record(StoreError.corrupt(path: path, reason: "PRAGMA quick_check: \(reason)"))
        }
        guard findings != ["ok"] else { return }
        let reason = "PRAGMA quick_check: " + findings.prefix(3).joined(separator: "; ") + (findings.count > 3 ? "; …" : "")
        throw health.record(StoreError.corrupt(path: path, reason: reason))
    }

    /// Runs `PRAGMA integrity_check` (also compares every index with its table) and reads the whole
    /// full-text index (through `chunks_fts_vocab`, since FTS5's own `integrity-check` command needs a
    /// writable connection); returns the problems found, empty when sound. For `kb stats --check`.
    /// - Throws: errors other than SQLite's corruption codes (those are returned as problems).
    public func integrityProblems() throws -> [String] {
        var problems: [String] = []
        do {
            let rows = try pool.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
            if rows != ["ok"] { problems += rows }
        } catch {
            guard case .corrupt(_, let reason)? = StoreError.classify(error, path: path) else { throw error }
            problems.append("integrity_check: \(reason)")
        }
        do {
            _ = try pool.read { db in try Row.fetchOne(db, sql: "SELECT count(*), sum(cnt) FROM chunks_fts_vocab") }
        } catch {
            guard case .corrupt(_, let reason)? = StoreError.classify(error, path: path) else { throw error }
            problems.append("full-text index (chunks_fts): \(reason)")
        }
        return problems
    }
}
