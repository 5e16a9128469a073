import ArgumentParser
import Foundation
import KBEmbedding
import KBIngest
import KBSearch
import KBStore

/// `kb eval retrieval` (also plain `kb eval DIR`): retrieval quality on a BEIR-format test set.
struct EvalRetrievalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retrieval",
        abstract: "Measure retrieval quality (nDCG@10, Recall@10/100, MRR@10) on a BEIR-format set.",
        discussion: """
            DATASET_DIR holds corpus.jsonl ({"_id", "title", "text"}), queries.jsonl ({"_id", "text"}) and
            qrels/test.tsv. The corpus is ingested into --db first (nothing to do when it is already
            there), then every judged query runs in each mode. corpora/build-debian-eval.sh builds the
            standard set: Debian package synopses as queries, their long descriptions as documents.
            """)

    @OptionGroup var modelsOption: ModelsOption
    @OptionGroup var tuning: SearchTuningOptions

    @Option(name: .long, help: ArgumentHelp("Knowledge-base file (default: DATASET_DIR/kb-eval.sqlite).", valueName: "file"))
    var db: String?

    @Option(name: .long, parsing: .upToNextOption, help: "Modes to evaluate.")
    var modes: [SearchMode] = [.lexical, .vector, .hybrid]

    @Option(name: .long, help: ArgumentHelp("Embedding model of a new --db (default: \(EmbedderCatalog.defaultName)); an existing base keeps its own.", valueName: "name"))
    var embedder: String?

    @Option(name: .long, help: ArgumentHelp("Evaluate only the first N judged queries.", valueName: "n"))
    var limit: Int?

    @Flag(name: .long, help: "Print as JSON: {\"queries\": N, \"modes\": {\"lexical\": {\"ndcg_at_10\", …}, …}}.")
    var json = false

    @Argument(help: ArgumentHelp("The BEIR-format folder.", valueName: "dataset-dir"))
    var datasetDirectory: String

    struct Output: Encodable {
        var queries: Int
        var modes: [String: RetrievalMetrics]
        var meanLatencyMilliseconds: [String: Double]

        enum CodingKeys: String, CodingKey {
            case queries, modes, meanLatencyMilliseconds = "mean_latency_ms"
        }
    }

    func run() throws {
        let directory = URL(fileURLWithPath: datasetDirectory, isDirectory: true)
        var dataset: BEIRDataset
        do {
            dataset = try BEIRDataset(directory: directory)
        } catch let error as EvaluationError {
            throw CLIError(error.description)
        }
        if let limit { dataset.queries = Array(dataset.queries.prefix(max(1, limit))) }
        let path = db ?? directory.appendingPathComponent("kb-eval.sqlite").path
        let store: KBDatabase
        do {
            store = try KBDatabase(path: path)
        } catch let error as StoreError {
            throw CLIError(error.description)
        }

        let needVectors = modes.contains(where: { $0 != .lexical })
        _ = try EvalCorpus.ingest(dataset.corpusFile, into: store, path: path, embedder: embedder,
                                  loadVectors: needVectors, models: modelsOption, quiet: json)

        let showProgress = !json && StandardError.isTerminal
        let engine = try tuning.engine(store, models: modelsOption, needVectors: needVectors)
        let evaluator = Evaluator(engine: engine)
        let results = try evaluator.evaluate(dataset, modes: modes, filters: tuning.filters) { mode, done in
            if showProgress && (done % 50 == 0 || done == dataset.queries.count) {
                StandardError.write("\r\u{1B}[2K\(mode.rawValue): \(done)/\(dataset.queries.count) queries")
            }
        }
        if showProgress { StandardError.write("\r\u{1B}[2K") }
        let output = Output(queries: dataset.queries.count,
                            modes: Dictionary(uniqueKeysWithValues: results.map { ($0.key.rawValue, $0.value.metrics) }),
                            meanLatencyMilliseconds: Dictionary(uniqueKeysWithValues: results.map {
                                ($0.key.rawValue, $0.value.meanLatencyMilliseconds)
                            }))
        if json {
            try printJSON(output)
            return
        }
        print("\(dataset.queries.count) queries, \(directory.lastPathComponent)")
        print("mode      nDCG@10  Recall@10  Recall@100  MRR@10  ms/query")
        for mode in modes {
            guard let result = results[mode] else { continue }
            let m = result.metrics
            print(String(format: "%-8@  %7.4f  %9.4f  %10.4f  %6.4f  %8.1f", mode.rawValue, m.ndcgAt10, m.recallAt10,
                         m.recallAt100, m.mrrAt10, result.meanLatencyMilliseconds))
        }
    }
}
