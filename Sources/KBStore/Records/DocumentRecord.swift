import GRDB

/// A row of `documents`.
public struct DocumentRecord: Sendable, Equatable, FetchableRecord, TableRecord {
    public static let databaseTableName = "documents"

    /// The table's columns.
    public enum Columns {
        public static let id = Column("id")
        public static let namespace = Column("namespace")
        public static let uri = Column("uri")
        public static let sourcePath = Column("source_path")
        public static let url = Column("url")
        public static let title = Column("title")
        public static let format = Column("format")
        public static let contentHash = Column("content_hash")
        public static let recordHash = Column("record_hash")
        public static let metadata = Column("metadata")
        public static let text = Column("text")
        public static let charCount = Column("char_count")
        public static let createdAt = Column("created_at")
        public static let updatedAt = Column("updated_at")
    }

    public var id: Int64
    /// Nil for a value this build does not know.
    public var namespace: DocumentNamespace?
    /// The document's identity within its namespace: a file's real path, or a record's `id`.
    public var uri: String
    public var sourcePath: String
    public var url: String?
    public var title: String
    public var format: String
    /// sha256 of `text`.
    public var contentHash: String
    /// sha256 of every stored field and the chunker settings.
    public var recordHash: String
    /// A JSON object, if any.
    public var metadataJSON: String?
    public var text: String
    /// Unicode scalars in `text`.
    public var charCount: Int
    /// ISO 8601 UTC.
    public var createdAt: String
    public var updatedAt: String

    public init(row: Row) throws {
        id = row[Columns.id]
        namespace = DocumentNamespace(rawValue: row[Columns.namespace] as String)
        uri = row[Columns.uri]
        sourcePath = row[Columns.sourcePath]
        url = row[Columns.url]
        title = row[Columns.title]
        format = row[Columns.format]
        contentHash = row[Columns.contentHash]
        recordHash = row[Columns.recordHash]
        metadataJSON = row[Columns.metadata]
        text = row[Columns.text]
        charCount = row[Columns.charCount]
        createdAt = row[Columns.createdAt]
        updatedAt = row[Columns.updatedAt]
    }
}
