import Foundation

/// Errors raised when opening or writing a knowledge-base database. Each names the file and the reason.
public enum StoreError: Error, CustomStringConvertible, Equatable {
    /// The file exists but is not an SQLite database at all.
    case notSQLite(path: String)
    /// The file is an SQLite database that belongs to some other program.
    case notKnowledgeBase(path: String, detail: String)
    /// The database was written by a newer kb whose schema this build does not know.
    case newerSchema(path: String, unknownMigrations: [String])
    /// The database does not exist and the caller asked not to create it.
    case missing(path: String)
    /// SQLite reported an error while opening or migrating.
    case openFailed(path: String, reason: String)
    /// The file is damaged: SQLite's checks failed or a read met a malformed page (`SQLITE_CORRUPT`,
    /// `SQLITE_NOTADB`). `reason` is SQLite's own account of the damage.
    case corrupt(path: String, reason: String)
    /// A write did not fit: the disk (or the database's page limit) is full (`SQLITE_FULL`). The
    /// transaction was rolled back; nothing stored before it is lost.
    case full(path: String, reason: String)

    public var description: String {
        switch self {
        case .notSQLite(let path):
            return "\(path): not a kb database (the file is not an SQLite database)"
        case .notKnowledgeBase(let path, let detail):
            return "\(path): not a kb database (\(detail)); refusing to modify it"
        case .newerSchema(let path, let unknown):
            return "\(path): written by a newer version of kb (unknown schema migrations: "
                + unknown.sorted().joined(separator: ", ") + "); upgrade kb to open it"
        case .missing(let path):
            return "\(path): no such database (run `kb ingest --db \(path) …` first)"
        case .openFailed(let path, let reason):
            return "\(path): cannot open database: \(reason)"
        case .corrupt(let path, let reason):
            return "\(path): the database file is corrupt (\(reason)); restore it from a backup or re-ingest"
        case .full(let path, let reason):
            return "\(path): the disk or database is full (\(reason)); the write was rolled back, free space and retry"
        }
    }
}
