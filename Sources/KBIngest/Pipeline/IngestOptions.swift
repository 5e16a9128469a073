import Foundation

/// Settings of one `kb ingest` run.
public struct IngestOptions: Sendable {
    /// Only files matching one of these are read from directories (default: every known extension).
    public var include: [Glob] = []
    /// Files and directories matching any of these are left out.
    public var exclude: [Glob] = []
    /// Remove stored documents whose source file (or JSON Lines record) is gone.
    public var prune = false
    /// Reject invalid UTF-8 instead of repairing it with U+FFFD.
    public var strictUTF8 = false
    /// Files (and JSON Lines records) larger than this are skipped with a message.
    public var maxDocumentBytes = 64 << 20
    /// Documents per transaction: the unit that a crash either keeps or loses whole.
    public var batchSize = 256
    /// Worker threads that read, parse and chunk.
    public var threads = max(1, ProcessInfo.processInfo.activeProcessorCount)

    public init() {}
}
