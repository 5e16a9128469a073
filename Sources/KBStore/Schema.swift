import GRDB

/// The database schema, applied by versioned migrations. `schemas/database.sql` documents the
/// result; a test holds the two together.
public enum Schema {
    /// `PRAGMA application_id` of every kb database: the ASCII bytes "kbDB".
    public static let applicationID: Int32 = 0x6B62_4442

    /// Page size chosen for BLOB-heavy rows (measured: 8192 stores 1.5 KB vectors without waste; 4096 wasted 25%).
    public static let pageSize = 8192

    /// All migrations known to this build, oldest first. Never edit a shipped migration: add one.
    public static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-documents-chunks-fts-embeddings") { db in
            try db.execute(sql: """
                CREATE TABLE documents (
                    id            INTEGER PRIMARY KEY,
                    uri           TEXT NOT NULL UNIQUE,   -- identity: absolute file path, or the JSON Lines `id`
                    source_path   TEXT NOT NULL,          -- file the document was read from (for --prune)
                    url           TEXT,                   -- JSON Lines `url`, if any
                    title         TEXT NOT NULL,
                    format        TEXT NOT NULL,          -- text | markdown | html | jsonl
                    content_hash  TEXT NOT NULL,          -- sha256 of `text` (duplicate detection)
                    record_hash   TEXT NOT NULL,          -- sha256 of every stored field + chunker settings
                    metadata      TEXT,                   -- JSON object, if any
                    text          TEXT NOT NULL,          -- extracted plain text; chunk offsets index into it
                    char_count    INTEGER NOT NULL,       -- Unicode scalars in `text`
                    created_at    TEXT NOT NULL,          -- ISO 8601 UTC
                    updated_at    TEXT NOT NULL
                );
                CREATE INDEX documents_by_source_path ON documents(source_path);
                CREATE INDEX documents_by_content_hash ON documents(content_hash);

                CREATE TABLE chunks (
                    id            INTEGER PRIMARY KEY,    -- also the rowid of chunks_fts
                    document_id   INTEGER NOT NULL REFERENCES documents(id),
                    ordinal       INTEGER NOT NULL,       -- 0-based position in the document
                    text          TEXT NOT NULL,          -- exactly documents.text[start_offset..<end_offset]
                    start_offset  INTEGER NOT NULL,       -- Unicode scalar offset into documents.text, inclusive
                    end_offset    INTEGER NOT NULL,       -- exclusive
                    token_count   INTEGER NOT NULL,       -- embedding-model tokens, without special tokens
                    heading_path  TEXT NOT NULL,          -- JSON array of enclosing headings, outermost first
                    UNIQUE (document_id, ordinal)
                );

                -- Contentless: the segmented text (see FullTextSegmenter) is indexed but not stored.
                CREATE VIRTUAL TABLE chunks_fts USING fts5(
                    title, headings, body,
                    content = '',
                    tokenize = 'porter unicode61 remove_diacritics 1'
                );

                CREATE TABLE embedding_models (
                    id            INTEGER PRIMARY KEY,
                    name          TEXT NOT NULL UNIQUE,   -- e.g. all-minilm-l6-v2
                    dimensions    INTEGER NOT NULL,
                    fingerprint   TEXT NOT NULL,          -- sha256 of the weights that made the vectors
                    created_at    TEXT NOT NULL
                );

                CREATE TABLE embeddings (
                    chunk_id      INTEGER NOT NULL REFERENCES chunks(id),
                    model_id      INTEGER NOT NULL REFERENCES embedding_models(id),
                    vector        BLOB NOT NULL,          -- dimensions x float32, little-endian
                    PRIMARY KEY (chunk_id, model_id)
                ) WITHOUT ROWID;

                CREATE TABLE settings (
                    key           TEXT PRIMARY KEY,
                    value         TEXT NOT NULL
                ) WITHOUT ROWID;
                """)
            try db.execute(sql: "INSERT INTO settings(key, value) VALUES ('fts_segmenter', ?)",
                           arguments: [FullTextSegmenter.version])
        }
        migrator.registerMigration("v2-fts-vocabulary") { db in
            // Document frequency of every indexed term (read by lexical search to tell rare terms
            // from common ones). A view over the index: it stores nothing.
            try db.execute(sql: "CREATE VIRTUAL TABLE chunks_fts_vocab USING fts5vocab(chunks_fts, 'row')")
        }
        migrator.registerMigration("v3-document-namespaces") { db in
            // API records and ingested files each get their own uri namespace, so a record posted
            // with the id of a file's path can no longer replace that file's document. SQLite cannot
            // change a UNIQUE constraint in place: the table is rebuilt, row ids kept (chunks and the
            // contentless FTS index refer to them). Documents stored with source_path 'api' were
            // posted to the HTTP API, which is the only writer that used that source path.
            try db.execute(sql: """
                CREATE TABLE documents_v3 (
                    id            INTEGER PRIMARY KEY,
                    namespace     TEXT NOT NULL,          -- who owns the uri: 'ingest' (kb ingest) | 'api' (HTTP)
                    uri           TEXT NOT NULL,          -- identity within the namespace: path, or record id
                    source_path   TEXT NOT NULL,
                    url           TEXT,
                    title         TEXT NOT NULL,
                    format        TEXT NOT NULL,
                    content_hash  TEXT NOT NULL,
                    record_hash   TEXT NOT NULL,
                    metadata      TEXT,
                    text          TEXT NOT NULL,
                    char_count    INTEGER NOT NULL,
                    created_at    TEXT NOT NULL,
                    updated_at    TEXT NOT NULL,
                    UNIQUE (namespace, uri)
                );
                INSERT INTO documents_v3(id, namespace, uri, source_path, url, title, format, content_hash, record_hash,
                                         metadata, text, char_count, created_at, updated_at)
                    SELECT id, CASE WHEN source_path = 'api' THEN 'api' ELSE 'ingest' END, uri, source_path, url, title,
                           format, content_hash, record_hash, metadata, text, char_count, created_at, updated_at
                    FROM documents;
                DROP TABLE documents;
                ALTER TABLE documents_v3 RENAME TO documents;
                CREATE INDEX documents_by_source_path ON documents(source_path);
                CREATE INDEX documents_by_content_hash ON documents(content_hash);
                """)
        }
        return migrator
    }

    /// The tokenizer of `chunks_fts`, for anything that must split text exactly as the index does.
    public static let fullTextTokenizer = "porter unicode61 remove_diacritics 1"
}
