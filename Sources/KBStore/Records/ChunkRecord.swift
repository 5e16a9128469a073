import GRDB

/// A row of `chunks`.
public struct ChunkRecord: Sendable, Equatable, FetchableRecord, TableRecord {
    public static let databaseTableName = "chunks"

    /// The table's columns.
    public enum Columns {
        public static let id = Column("id")
        public static let documentID = Column("document_id")
        public static let ordinal = Column("ordinal")
        public static let text = Column("text")
        public static let startOffset = Column("start_offset")
        public static let endOffset = Column("end_offset")
        public static let tokenCount = Column("token_count")
        public static let headingPath = Column("heading_path")
    }

    public var id: Int64
    public var documentID: Int64
    /// Position in the document, from 0.
    public var ordinal: Int
    /// Exactly the document text between the offsets.
    public var text: String
    /// Unicode scalar offsets into the document text, `start..<end`.
    public var startOffset: Int
    public var endOffset: Int
    public var tokenCount: Int
    /// The headings above the chunk, outermost first.
    public var headingPath: [String]

    public init(row: Row) throws {
        id = row[Columns.id]
        documentID = row[Columns.documentID]
        ordinal = row[Columns.ordinal]
        text = row[Columns.text]
        startOffset = row[Columns.startOffset]
        endOffset = row[Columns.endOffset]
        tokenCount = row[Columns.tokenCount]
        headingPath = HeadingPath.decode(row[Columns.headingPath])
    }
}
