import ArgumentParser
import Foundation
import KBEmbedding
import KBIngest
import KBStore
import KBSupport

/// `kb ingest`: read files into the knowledge base.
struct IngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Read documents into the knowledge base (idempotent and resumable).",
        discussion: """
            PATH may be a file or a directory (walked recursively; hidden entries skipped). Formats by
            extension: .txt .text .rst .log (plain text), .md .markdown (Markdown), .html .htm (HTML),
            .jsonl .ndjson (JSON Lines, one document per line: {"id", "title", "text", "url"?, "metadata"?};
            see schemas/document.schema.json). A file named explicitly with another extension is read as
            plain text.

            Unchanged documents are skipped; changed ones are replaced with their chunks; work is committed
            in batches, so an interrupted run (even kill -9) is completed by running the same command again.

            Exit status: 0 when every source was ingested or deliberately skipped, 3 when some sources
            failed (they are listed; the rest was ingested), 1 on a fatal error.
            """)

    @OptionGroup var database: DatabaseOption
    @OptionGroup var modelsOption: ModelsOption

    @Argument(help: ArgumentHelp("Files and directories to ingest.", valueName: "path"))
    var paths: [String]

    @Option(name: .long, help: ArgumentHelp("Only read files matching this glob (repeatable; default: all known extensions).", valueName: "glob"))
    var include: [String] = []

    @Option(name: .long, help: ArgumentHelp("Leave out files and directories matching this glob (repeatable).", valueName: "glob"))
    var exclude: [String] = []

    @Flag(name: .long, help: "Remove stored documents whose file (or JSON Lines record) is no longer there.")
    var prune = false

    @Flag(name: .long, help: "Reject files with invalid UTF-8 instead of repairing them with U+FFFD.")
    var strictUTF8 = false

    @Option(name: .long, help: ArgumentHelp("Skip documents larger than this (e.g. 64M, 1G).", valueName: "size"))
    var maxFileSize: String = "64M"

    @Option(name: .long, help: ArgumentHelp("Maximum tokens per chunk, counted with the embedding model's own tokenizer (16 up to the model's limit: 254 for all-minilm-l6-v2, 507 for multilingual-e5-small).", valueName: "n"))
    var chunkTokens: Int = ChunkingOptions().maxTokens

    @Option(name: .long, help: ArgumentHelp("Tokens of overlap between consecutive chunks.", valueName: "n"))
    var chunkOverlap: Int = ChunkingOptions().overlapTokens

    @Option(name: .long, help: ArgumentHelp("Worker threads (default: all cores).", valueName: "n"))
    var threads: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)

    @Option(name: .long, help: ArgumentHelp("Documents per transaction.", valueName: "n"))
    var batchSize: Int = IngestOptions().batchSize

    @Option(name: .long, help: ArgumentHelp("Embedding model for the chunks (default: the base's model, else \(EmbedderCatalog.defaultName)).", valueName: "name"))
    var embedder: String?

    @Flag(name: .long, help: "Store no vectors (lexical search only); a later ingest with a model fills them in.")
    var noEmbed = false

    @Flag(name: .long, help: "Print the summary as JSON on standard output.")
    var json = false

    @Flag(name: .shortAndLong, help: "No progress display.")
    var quiet = false

    func validate() throws {
        guard ByteSize.parse(maxFileSize) != nil else {
            throw ValidationError("--max-file-size: cannot read '\(maxFileSize)' as a size (examples: 64M, 1G, 500k)")
        }
        // The upper bound depends on the model's tokenizer: run() checks it once the model is loaded.
        if let problem = ChunkingOptions(maxTokens: chunkTokens, overlapTokens: chunkOverlap).validationError(limit: .max) {
            throw ValidationError(problem)
        }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() throws {
        let store = try database.open(.readWrite)
        var model: (any Embedder)?
        if !noEmbed {
            let name = try embedder ?? ModelsOption.activeModelName(store) ?? EmbedderCatalog.defaultName
            model = try modelsOption.loadEmbedder(name)
        }
        var options = IngestOptions()
        options.include = include.map(Glob.init)
        options.exclude = exclude.map(Glob.init)
        options.prune = prune
        options.strictUTF8 = strictUTF8
        options.maxDocumentBytes = ByteSize.parse(maxFileSize) ?? options.maxDocumentBytes
        options.threads = threads
        options.batchSize = batchSize
        let chunker = try modelsOption.chunker(ChunkingOptions(maxTokens: chunkTokens, overlapTokens: chunkOverlap),
                                               for: model)
        let pipeline = IngestPipeline(store: store, chunker: chunker, options: options, embedder: model)
        let showProgress = !quiet && !json && StandardError.isTerminal
        var bar = ProgressBar()
        let report: IngestReport
        do {
            report = try pipeline.run(paths) { progress in
                if showProgress { bar.update(progress) }
            }
        } catch let error as IngestError {
            throw CLIError(error.description)
        } catch let error as EmbeddingStoreError {
            throw CLIError(error.description)
        }
        if showProgress { bar.finish() }
        if json {
            try printJSON(report)
        } else {
            StandardError.write(IngestSummary.render(report, database: database.db))
        }
        if report.failed > 0 { throw ExitCode(3) }
    }
}

/// The human-readable end-of-run summary.
enum IngestSummary {
    static let listed = 20

    static func render(_ report: IngestReport, database: String) -> String {
        let seconds = max(report.seconds, 0.001)
        var rates = ["\(rate(Double(report.processed) / seconds)) docs/s"]
        if report.chunks > 0 { rates.append("\(rate(Double(report.chunks) / seconds)) chunks/s") }
        rates.append("\(ByteCount.format(report.bytes)) read")
        var out = String(format: "Ingested into %@ in %.1f s (", database, report.seconds) + rates.joined(separator: ", ") + ")\n"
        out += "  added \(report.added), updated \(report.updated), unchanged \(report.unchanged), "
            + "skipped \(report.skipped), failed \(report.failed), pruned \(report.pruned); \(report.chunks) chunks written, "
            + "\(report.embedded) embedded\n"
        out += list("Failed", report.failures)
        out += list("Skipped", report.skips)
        out += list("Warnings", report.warnings)
        return out
    }

    /// Whole numbers from 10 up, one decimal below (an embedding-bound ingest can run under 1 doc/s).
    private static func rate(_ value: Double) -> String {
        value >= 10 ? ProgressBar.grouped(Int(value)) : String(format: "%.1f", value)
    }

    private static func list(_ heading: String, _ issues: [SourceIssue]) -> String {
        guard !issues.isEmpty else { return "" }
        var out = "\(heading):\n"
        for issue in issues.prefix(listed) { out += "  \(issue.source): \(issue.reason)\n" }
        if issues.count > listed { out += "  … and \(issues.count - listed) more (--json lists all)\n" }
        return out
    }
}
