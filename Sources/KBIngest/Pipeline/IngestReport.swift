/// What an ingest run did. Encoded as the `--json` output of `kb ingest`.
public struct IngestReport: Sendable, Codable, Equatable {
    /// New documents stored.
    public var added = 0
    /// Stored documents whose content changed and whose chunks were replaced.
    public var updated = 0
    /// Documents already stored with identical content and settings.
    public var unchanged = 0
    /// Sources deliberately not ingested (unsupported, empty, binary, too large, duplicate), with reasons.
    public var skipped = 0
    /// Sources that could not be read or parsed, with reasons.
    public var failed = 0
    /// Stored documents removed by `--prune`.
    public var pruned = 0
    /// Chunks written for added and updated documents.
    public var chunks = 0
    /// Chunk vectors computed by the embedding model (new chunks, and stored ones that had none).
    public var embedded = 0
    /// Bytes of source files read.
    public var bytes = 0
    public var seconds = 0.0
    /// Problems that did not stop a document from being stored (e.g. repaired UTF-8).
    public var warnings: [SourceIssue] = []
    public var skips: [SourceIssue] = []
    public var failures: [SourceIssue] = []

    public init() {}

    /// Documents looked at: added + updated + unchanged + skipped + failed.
    public var processed: Int { added + updated + unchanged + skipped + failed }

    mutating func skip(_ source: String, _ reason: String) {
        skipped += 1
        skips.append(SourceIssue(source: source, reason: reason, isFailure: false))
    }

    mutating func fail(_ source: String, _ reason: String) {
        failed += 1
        failures.append(SourceIssue(source: source, reason: reason, isFailure: true))
    }
}

/// A snapshot for a progress display.
public struct IngestProgress: Sendable {
    public var report: IngestReport
    /// Source bytes handled so far and in all.
    public var bytesDone: Int
    public var bytesTotal: Int
    public var elapsedSeconds: Double
}

extension IngestReport {
    /// Adds another report's counts and issues to this one (times and bytes are left alone).
    mutating func merge(_ other: IngestReport) {
        added += other.added
        updated += other.updated
        unchanged += other.unchanged
        skipped += other.skipped
        failed += other.failed
        pruned += other.pruned
        chunks += other.chunks
        embedded += other.embedded
        warnings += other.warnings
        skips += other.skips
        failures += other.failures
    }
}
