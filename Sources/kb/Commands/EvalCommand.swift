import ArgumentParser
import Foundation
import KBEmbedding
import KBIngest
import KBStore

/// `kb eval`: every evaluation in one shape, `kb eval retrieval|answers DIR`. Plain `kb eval DIR`
/// is `kb eval retrieval DIR`.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure retrieval (kb eval retrieval) or cited answers (kb eval answers) on a test set.",
        subcommands: [EvalRetrievalCommand.self, EvalAnswersCommand.self],
        defaultSubcommand: EvalRetrievalCommand.self)
}

/// The documents of a test set, put into its knowledge base before a run.
enum EvalCorpus {
    /// Ingests `file` into `store` (nothing to do when it is already there) with the base's
    /// embedding model, else `embedder`, else the default one.
    /// - Parameters:
    ///   - loadVectors: false when only lexical search will run (no model is loaded, no vectors made).
    /// - Returns: the name of the embedding model of the base (nil when none was loaded).
    static func ingest(_ file: URL, into store: KBDatabase, path: String, embedder requested: String?, loadVectors: Bool,
                       models: ModelsOption, quiet: Bool) throws -> String? {
        let activeModel = try ModelsOption.activeModelName(store)
        if let requested, let activeModel, requested != activeModel {
            throw CLIError("\(path) searches with \(activeModel), not \(requested): use another --db, or switch it with "
                           + "`kb reembed --db \(path) --model \(requested)`")
        }
        let modelName = activeModel ?? requested ?? EmbedderCatalog.defaultName
        let embedder = loadVectors ? try models.loadEmbedder(modelName) : nil
        let chunker = try models.chunker(ChunkingOptions(), for: embedder)
        let pipeline = IngestPipeline(store: store, chunker: chunker, options: IngestOptions(), embedder: embedder)
        var bar = ProgressBar()
        let showProgress = !quiet && StandardError.isTerminal
        let report = try pipeline.run([file.path]) { if showProgress { bar.update($0) } }
        if showProgress { bar.finish() }
        if !quiet && report.added + report.updated > 0 {
            StandardError.write("ingested the corpus into \(path): \(report.added) added, \(report.updated) updated, "
                                + "\(report.embedded) chunks embedded\n")
        }
        if report.failed > 0 {
            StandardError.write("warning: \(report.failed) corpus records failed to ingest (first: "
                                + "\(report.failures[0].source): \(report.failures[0].reason))\n")
        }
        return loadVectors ? modelName : nil
    }
}
