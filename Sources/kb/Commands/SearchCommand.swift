import ArgumentParser
import Foundation
import KBEmbedding
import KBIndex
import KBSearch
import KBStore

extension SearchMode: ExpressibleByArgument {}
extension FusionMethod: ExpressibleByArgument {}

/// Filter and tuning options shared by `kb search` and `kb eval`.
struct SearchTuningOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Only documents whose path, url or id starts with this.", valueName: "prefix"))
    var pathPrefix: String?

    @Option(name: .long, help: ArgumentHelp("Only documents updated at or after this ISO 8601 date/time.", valueName: "date"))
    var after: String?

    @Option(name: .long, help: ArgumentHelp("Only documents updated before this ISO 8601 date/time.", valueName: "date"))
    var before: String?

    @Option(name: .customLong("where"), help: ArgumentHelp("Only documents whose JSON metadata has key=value (repeatable).", valueName: "key=value"))
    var conditions: [String] = []

    @Option(name: .long, help: "Vector scan: float32 (exact) or int8 (4x less memory traffic, re-ranked in float32).")
    var precision: String = "float32"

    @Option(name: .long, help: ArgumentHelp("Hybrid fusion: score (weighted mean of lexical query coverage and normalized cosine similarity) or rrf (reciprocal rank).", valueName: "method"))
    var fusion: FusionMethod = SearchEngine.Fusion().method

    @Option(name: .long, help: ArgumentHelp("Weight of the lexical list in hybrid fusion.", valueName: "w"))
    var lexicalWeight: Double = 1

    @Option(name: .long, help: ArgumentHelp("Weight of the vector list in hybrid fusion.", valueName: "w"))
    var vectorWeight: Double = 1

    @Option(name: .long, help: ArgumentHelp("Hybrid: ignore vector results with a lower cosine similarity.", valueName: "s"))
    var minSimilarity: Float = SearchEngine.Fusion().minimumVectorSimilarity

    func validate() throws {
        guard ["float32", "int8"].contains(precision) else { throw ValidationError("--precision must be float32 or int8") }
        for condition in conditions where !condition.contains("=") {
            throw ValidationError("--where takes key=value (got '\(condition)')")
        }
        guard lexicalWeight >= 0, vectorWeight >= 0 else { throw ValidationError("fusion weights must not be negative") }
    }

    var filters: SearchFilters {
        var metadata: [String: String] = [:]
        for condition in conditions {
            let parts = condition.split(separator: "=", maxSplits: 1)
            metadata[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return SearchFilters(uriPrefix: pathPrefix, updatedAfter: after, updatedBefore: before, metadata: metadata)
    }

    /// Opens the engine with the base's embedding model, if the base has vectors.
    func engine(_ store: KBDatabase, models: ModelsOption, needVectors: Bool) throws -> SearchEngine {
        var embedder: (any Embedder)?
        if needVectors, let name = try ModelsOption.activeModelName(store) {
            embedder = try models.loadEmbedder(name)
        }
        do {
            let engine = try SearchEngine(store: store, embedder: embedder)
            engine.precision = precision == "int8" ? .int8(rerank: 4) : .float32
            engine.fusion = SearchEngine.Fusion(method: fusion, lexicalWeight: lexicalWeight, vectorWeight: vectorWeight,
                                                minimumVectorSimilarity: minSimilarity)
            return engine
        } catch let error as SearchError {
            throw CLIError(error.description)
        } catch let error as EmbeddingStoreError {
            throw CLIError(error.description)
        }
    }
}

/// `kb search`: query the knowledge base from the command line.
struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search the knowledge base.",
        discussion: """
            Modes: hybrid (default: lexical and vector results fused, by score or --fusion rrf), vector (nearest
            chunks by embedding similarity), lexical (BM25 over titles, headings and text; Chinese and
            Japanese match at any length). Any text is a valid query: search syntax is treated as words.
            A base without vectors answers hybrid queries lexically.
            """)

    @OptionGroup var database: DatabaseOption
    @OptionGroup var modelsOption: ModelsOption
    @OptionGroup var tuning: SearchTuningOptions

    @Argument(help: ArgumentHelp("What to search for.", valueName: "query"))
    var query: [String]

    @Option(name: .long, help: "Search mode.")
    var mode: SearchMode = .hybrid

    @Option(name: .long, help: ArgumentHelp("Number of results (1-\(LexicalSearch.maxTopK)).", valueName: "n"))
    var topK: Int = 10

    @Flag(name: .long, help: "Print results as JSON: {\"results\": [{\"uri\", \"title\", \"score\", \"text\", …}]}.")
    var json = false

    func validate() throws {
        guard (1...LexicalSearch.maxTopK).contains(topK) else {
            throw ValidationError("--top-k must be between 1 and \(LexicalSearch.maxTopK) (got \(topK))")
        }
    }

    struct Output: Encodable {
        var query: String
        var mode: String
        var results: [SearchHit]
    }

    func run() throws {
        let store = try database.open(.readOnly)
        let text = query.joined(separator: " ")
        let engine = try tuning.engine(store, models: modelsOption, needVectors: mode != .lexical)
        let effective = engine.modeToRun(mode)
        if effective != mode {
            if !json { StandardError.write("note: this knowledge base has no vectors; searching lexically\n") }
        }
        let hits: [SearchHit]
        do {
            hits = try engine.search(text, mode: effective, topK: topK, filters: tuning.filters)
        } catch let error as SearchError {
            throw CLIError(error.description)
        }
        if json {
            try printJSON(Output(query: text, mode: effective.rawValue, results: hits))
            return
        }
        if hits.isEmpty {
            print("No results for \"\(text)\".")
            return
        }
        let bold = StandardError.isTerminal && isatty(1) == 1
        for (rank, hit) in hits.enumerated() {
            let heading = hit.headingPath.isEmpty ? "" : " › " + hit.headingPath.joined(separator: " › ")
            print("\(rank + 1). \(hit.title)\(heading)  [\(String(format: "%.3f", hit.score))]")
            print("   \(hit.url ?? hit.uri)")
            print("   \(render(hit.snippet, bold: bold))")
        }
    }

    private func render(_ snippet: Snippet, bold: Bool) -> String {
        let scalars = Array(snippet.text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var position = 0
        let open = bold ? "\u{1B}[1m" : "«", close = bold ? "\u{1B}[0m" : "»"
        for span in snippet.highlights where span.start >= position {
            out.append(contentsOf: scalars[position..<span.start])
            out.append(contentsOf: open.unicodeScalars)
            out.append(contentsOf: scalars[span.start..<span.end])
            out.append(contentsOf: close.unicodeScalars)
            position = span.end
        }
        out.append(contentsOf: scalars[position...])
        return String(out)
    }
}
