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
        }
    }
}
