-- kb database schema (migrations "v1-documents-chunks-fts-embeddings", "v2-fts-vocabulary",
-- "v3-document-namespaces").
--
-- One SQLite file per knowledge base: WAL journal, page_size 8192, PRAGMA application_id = 0x6B624442
-- ("kbDB"). Applied by the versioned migrations in Sources/KBStore/Schema.swift (GRDB records applied
-- migrations in grdb_migrations). kb refuses files with another application_id, and files with
-- migrations it does not know (written by a newer kb). A test checks that every table, index and
-- column below exists in a freshly migrated database.

-- A document: one file, or one JSON Lines record (read by kb ingest or posted to the HTTP API).
CREATE TABLE documents (
    id            INTEGER PRIMARY KEY,
    namespace     TEXT NOT NULL,          -- who owns the uri: 'ingest' (kb ingest) | 'api' (POST /v1/documents)
    uri           TEXT NOT NULL,          -- identity in the namespace: real path of the file, or the record's `id`
    source_path   TEXT NOT NULL,          -- file the document was read from (for --prune)
    url           TEXT,                   -- JSON Lines `url`, if any; shown as the result's uri when present
    title         TEXT NOT NULL,          -- <title>, Markdown front matter/first H1, JSON `title`, else file name
    format        TEXT NOT NULL,          -- text | markdown | html | jsonl
    content_hash  TEXT NOT NULL,          -- sha256 of `text`: finds the same content under two paths
    record_hash   TEXT NOT NULL,          -- sha256 of every stored field + chunker settings: equal = skip
    metadata      TEXT,                   -- JSON object (JSON Lines `metadata`), keys sorted
    text          TEXT NOT NULL,          -- extracted text; chunk offsets index into it
    char_count    INTEGER NOT NULL,       -- Unicode scalars in `text`
    created_at    TEXT NOT NULL,          -- ISO 8601 UTC, e.g. 2026-11-24T22:08:10.480Z
    updated_at    TEXT NOT NULL,
    UNIQUE (namespace, uri)               -- an API record never replaces a file's document, nor the reverse
);
CREATE INDEX documents_by_source_path ON documents(source_path);
CREATE INDEX documents_by_content_hash ON documents(content_hash);

-- A chunk: a span of a document small enough for the embedding model (<= 254 tokens by default).
CREATE TABLE chunks (
    id            INTEGER PRIMARY KEY,    -- also the rowid of chunks_fts
    document_id   INTEGER NOT NULL REFERENCES documents(id),
    ordinal       INTEGER NOT NULL,       -- 0-based position in the document
    text          TEXT NOT NULL,          -- exactly documents.text[start_offset ..< end_offset]
    start_offset  INTEGER NOT NULL,       -- Unicode scalar (code point) offset into documents.text, inclusive
    end_offset    INTEGER NOT NULL,       -- exclusive
    token_count   INTEGER NOT NULL,       -- embedding-model (WordPiece) tokens, without [CLS]/[SEP]
    heading_path  TEXT NOT NULL,          -- JSON array of enclosing headings, outermost first
    UNIQUE (document_id, ordinal)
);

-- Full-text index over chunks. Contentless: the indexed text is not stored a second time.
-- Columns hold the document title, the chunk's heading path (" / "-joined) and the chunk text, each
-- with every Han/Hiragana/Katakana character spaced out (Sources/KBStore/FullTextSegmenter.swift) so
-- that Chinese and Japanese queries of any length match as phrases. Deleting a row requires the
-- original values, which kb re-derives from documents and chunks; settings.fts_segmenter records the
-- segmenter version and a change rebuilds the index.
CREATE VIRTUAL TABLE chunks_fts USING fts5(
    title, headings, body,
    content = '',
    tokenize = 'porter unicode61 remove_diacritics 1'
);

-- Document frequency of every indexed (stemmed) term: a read-only view over chunks_fts (v2).
-- Lexical search uses it to require at least one rare query term, which keeps common words from
-- making FTS5 score tens of thousands of rows.
CREATE VIRTUAL TABLE chunks_fts_vocab USING fts5vocab(chunks_fts, 'row');

-- The models that made stored vectors (name, dimensions, and a fingerprint of the weights).
CREATE TABLE embedding_models (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,   -- e.g. all-minilm-l6-v2
    dimensions    INTEGER NOT NULL,
    fingerprint   TEXT NOT NULL,          -- identifies the weights that made the vectors
    created_at    TEXT NOT NULL
);

-- One vector per chunk per model.
CREATE TABLE embeddings (
    chunk_id      INTEGER NOT NULL REFERENCES chunks(id),
    model_id      INTEGER NOT NULL REFERENCES embedding_models(id),
    vector        BLOB NOT NULL,          -- dimensions x float32, little-endian
    PRIMARY KEY (chunk_id, model_id)
) WITHOUT ROWID;

-- Key/value settings of the knowledge base (e.g. fts_segmenter).
CREATE TABLE settings (
    key           TEXT PRIMARY KEY,
    value         TEXT NOT NULL
) WITHOUT ROWID;
