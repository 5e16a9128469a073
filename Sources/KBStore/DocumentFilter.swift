import Foundation
import GRDB

/// Restricts a search to some documents (`SearchFilters` in KBSearch). Empty filters allow everything.
public struct DocumentFilter: Sendable, Equatable {
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
}
