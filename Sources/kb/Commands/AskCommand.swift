import ArgumentParser
import COpenBLAS
import Foundation
import KBSearch
import KBServer
import KBStore

/// `kb ask`: a cited answer in the terminal, from the same retrieval, prompt and engine as
/// `POST /v1/ask`.
struct AskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ask",
        abstract: "Answer a question from the knowledge base with a local model, citing its sources.",
        discussion: """
            The answer streams to stdout as it is generated. Then each sentence with the passage that
            supports it, as kb checked it: [n] is a citation the model wrote and kb verified, [^n] one
            kb added (the model cited nothing there, or cited a source that does not say it); a note
            follows when no source supports the answer. Last, the sources: the passages given to the
            model, each with its document and the exact span (character offsets) of the passage. The same retrieval, prompt and model as
            POST /v1/ask of kb serve. When nothing in the base is relevant, kb says so without the model.

            Example:
              kb ask --db kb.sqlite --model qwen2.5-coder-0.5b-instruct-q4_k_m.gguf "How do I rotate logs?"
            """)

    @OptionGroup var modelsOption: ModelsOption

    @Option(name: .long, help: ArgumentHelp("The knowledge-base file (default: $KB_DB, else kb.sqlite).", valueName: "file"))
    var db: String?

    @Option(name: .long, help: ArgumentHelp("The GGUF chat model that answers (a path, or a file in the models folder).", valueName: "gguf"))
    var model: String

    @Argument(help: "The question.")
    var question: String

    @Option(name: .long, help: "Search mode for the sources: hybrid, vector or lexical.")
    var mode: String = "hybrid"

    @Option(name: .long, help: "Sources given to the model (1-20).")
    var topK: Int = 5

    @Option(name: .long, help: "The most tokens in the answer.")
    var maxTokens: Int = 512

    @Option(name: .long, help: "Sampling temperature; 0 is greedy.")
    var temperature: Double = 0

    @Option(name: .long, help: ArgumentHelp("Threads for the model's matrix products (default: every core).", valueName: "n"))
    var threads: Int?

    @Flag(name: .long, help: "Print one JSON object (answer, citations, sources, finish_reason, usage) instead of text.")
    var json = false

    func validate() throws {
        guard SearchMode(rawValue: mode) != nil else { throw ValidationError("--mode must be hybrid, vector or lexical (got \(mode))") }
        guard (1...20).contains(topK) else { throw ValidationError("--top-k must be between 1 and 20 (got \(topK))") }
        guard (1...8192).contains(maxTokens) else { throw ValidationError("--max-tokens must be between 1 and 8192 (got \(maxTokens))") }
        guard (0...2).contains(temperature) else { throw ValidationError("--temperature must be between 0 and 2 (got \(temperature))") }
    }

    func run() async throws {
        let path = db ?? ProcessInfo.processInfo.environment["KB_DB"] ?? "kb.sqlite"
        let store: KBDatabase
        do {
            store = try KBDatabase(path: path, mode: .readWrite)
        } catch let error as StoreError {
            throw CLIError(error.description)
        }
        openblas_set_num_threads(1)   // one query embedding; the model's threads do the heavy work
        let knowledge = try modelsOption.knowledgeBase(store, embedder: try ModelsOption.activeModelName(store))
        guard let generator = try AnswerModelLoader.load(model, models: modelsOption, threads: threads) else {
            throw CLIError("--model is required")
        }
        let answers = AnswerService(knowledge: knowledge, generator: generator)
        let output = FileHandle.standardOutput
        let streaming = !json
        let report: AnswerReport
        do {
            report = try await answers.ask(question, mode: SearchMode(rawValue: mode) ?? .hybrid, topK: topK,
                                           parameters: GenerationParameters(maxTokens: maxTokens, temperature: temperature)) { piece in
                if streaming { output.write(Data(piece.utf8)) }
            }
        } catch let error as APIError {
            throw CLIError(error.message)
        }
        if json {
            try printJSON(report)
            return
        }
        output.write(Data(("\n\n" + Self.checkedText(report) + Self.sourcesText(report)).utf8))
    }

    /// Each sentence that needs support, with the span that gives it (or a warning), and the
    /// answer's grounding.
    static func checkedText(_ report: AnswerReport) -> String {
        guard !report.sources.isEmpty, !report.sentences.isEmpty else { return "" }
        var text = "Checked:\n"
        for sentence in report.sentences where sentence.needsSupport || !sentence.citations.isEmpty {
            text += "  \"\(sentence.text)\"\n"
            if sentence.citations.isEmpty {
                text += "      not supported by any source\n"
            }
            for citation in sentence.citations {
                let mark = citation.origin == .model ? "[\(citation.marker)]" : "[^\(citation.marker)]"
                let moved = citation.replacedMarker.map { " (the model wrote [\($0)])" } ?? ""
                var span = citation.text.replacingOccurrences(of: "\n", with: " ")
                if span.count > 100 { span = String(span.prefix(100)) + "…" }
                text += "      \(mark) support \(String(format: "%.2f", citation.support))\(moved), "
                    + "characters \(citation.startOffset)-\(citation.endOffset): \"\(span)\"\n"
            }
            if !sentence.droppedMarkers.isEmpty {
                text += "      removed: " + sentence.droppedMarkers.map { "[\($0)]" }.joined(separator: " ") + "\n"
            }
        }
        if !report.grounded {
            text += report.sentences.contains(where: \.needsSupport)
                ? "No passage of the knowledge base supports this answer; do not rely on it.\n"
                : "The model declined to answer from these sources.\n"
        }
        return text + "\n"
    }

    /// The sources under the answer: cited ones marked, each with its document and span.
    static func sourcesText(_ report: AnswerReport) -> String {
        guard !report.sources.isEmpty else { return "(no sources: nothing in the knowledge base is relevant)\n" }
        let cited = Set(report.citations.map(\.marker))
        var text = report.citations.isEmpty ? "Sources (none cited):\n" : "Sources:\n"
        for source in report.sources {
            let mark = cited.contains(source.marker) ? "*" : " "
            // The path under the title (a document's first heading is often its title again).
            let path = source.headingPath.first == source.title ? Array(source.headingPath.dropFirst()) : source.headingPath
            let heading = path.isEmpty ? "" : " › " + path.joined(separator: " › ")
            text += "\(mark)[\(source.marker)] \(source.title)\(heading) — \(source.url ?? source.uri) "
                + "(characters \(source.startOffset)-\(source.endOffset))\n"
        }
        if !cited.isEmpty { text += "(* cited in the answer)\n" }
        return text
    }
}
