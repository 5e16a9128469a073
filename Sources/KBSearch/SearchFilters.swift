import GRDB

/// Restricts a search to some documents. Empty filters allow everything.
public struct SearchFilters: Sendable, Equatable {
    /// Documents whose source path, `url` or id starts with this.
    public var uriPrefix: String?
    /// Documents last updated at or after / before these ISO 8601 times (a date alone means midnight UTC).
    public var updatedAfter: String?
    public var updatedBefore: String?
    /// Documents whose JSON metadata has each key with this value (compared as text).
    public var metadata: [String: String] = [:]

    public init(uriPrefix: String? = nil, updatedAfter: String? = nil, updatedBefore: String? = nil,
                metadata: [String: String] = [:]) {
        self.uriPrefix = uriPrefix
        self.updatedAfter = updatedAfter
        self.updatedBefore = updatedBefore
        self.metadata = metadata
    }

    public var isEmpty: Bool { uriPrefix == nil && updatedAfter == nil && updatedBefore == nil && metadata.isEmpty }

    /// SQL condition over `documents d` and its arguments.
    func condition() -> (sql: String, arguments: StatementArguments) {
        var clauses: [String] = []
        var arguments = StatementArguments()
        if let prefix = uriPrefix {
            clauses.append("((d.uri >= ? AND d.uri < ?) OR (d.url >= ? AND d.url < ?))")
            arguments += [prefix, prefix + "\u{10FFFF}", prefix, prefix + "\u{10FFFF}"]
        }
        if let after = updatedAfter { clauses.append("d.updated_at >= ?"); arguments += [after] }
        if let before = updatedBefore { clauses.append("d.updated_at < ?"); arguments += [before] }
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            let path = "$.\"" + key.replacingOccurrences(of: "\"", with: "\\\"") + "\""
            clauses.append("CAST(json_extract(d.metadata, ?) AS TEXT) = ?")
            arguments += [path, value]
        }
        return (clauses.isEmpty ? "1" : clauses.joined(separator: " AND "), arguments)
    }

    /// Ids of the chunks the filters allow, or nil when there are no filters.
    func allowedChunkIDs(_ db: Database) throws -> Set<Int64>? {
        guard !isEmpty else { return nil }
        let (sql, arguments) = condition()
        return Set(try Int64.fetchAll(db, sql: "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id WHERE \(sql)",
                                      arguments: arguments))
    }
}
