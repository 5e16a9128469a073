import ArgumentParser
import COpenBLAS
import Foundation
import KBSearch
import KBServer
import KBStore
import KBSupport

/// `kb eval answers`: how right and how checkable kb's cited answers are on a question set, beside
/// the same model answering closed-book (no sources) in the same run.
struct EvalAnswersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "answers",
        abstract: "Measure cited answers: accuracy, citation coverage and precision, abstention, time to first token.",
        discussion: """
            DATASET_DIR holds docs.jsonl (the knowledge base) and questions.jsonl ({"id", "question",
            "answers", "evidence", "answerable", "split", "kind", "lang"}); corpora/build-answer-sets.sh
            builds an English and a Chinese set. The documents are ingested into --db first (nothing
            to do when they are there), then each question of the split is answered as POST /v1/ask
            answers it, and again by the model alone (closed book) unless --no-closed-book.

            accuracy: a reference answer, normalised, is contained in the answer (questions with one).
            coverage: answer sentences that make a claim and carry a citation / such sentences.
            precision: citations of an evidence document / citations (the set's gold data).
            abstention: unanswerable questions (evidence removed from the base) where kb says the
            base does not support an answer. false abstention: the same on answerable questions.
            """)

    @OptionGroup var modelsOption: ModelsOption

    @Option(name: .long, help: ArgumentHelp("Knowledge-base file (default: DATASET_DIR/kb-eval.sqlite).", valueName: "file"))
    var db: String?

    @Option(name: .long, help: ArgumentHelp("The GGUF chat model that answers (a path, or a file in the models folder).", valueName: "gguf"))
    var model: String

    @Option(name: .long, help: ArgumentHelp("Embedding model of a new --db (e.g. multilingual-e5-small for Chinese); an existing base keeps its own.", valueName: "name"))
    var embedder: String?

    @Option(name: .long, help: "Questions to run: dev, test or all.")
    var split: String = "dev"

    @Option(name: .long, help: ArgumentHelp("Run only the first N questions of the split.", valueName: "n"))
    var limit: Int?

    @Option(name: .customLong("kinds"), parsing: .upToNextOption, help: ArgumentHelp("Run only questions of these kinds (e.g. faq).", valueName: "kind"))
    var onlyKinds: [String] = []

    @Option(name: .long, help: "The most tokens in each answer.")
    var maxTokens: Int = 64

    @Option(name: .long, help: "Sources given to the model (1-20).")
    var topK: Int = 5

    @Option(name: .long, help: ArgumentHelp("Threads for the model's matrix products (default: every core).", valueName: "n"))
    var threads: Int?

    @Flag(inversion: .prefixedNo, help: "Also answer every question closed-book (no sources), the baseline.")
    var closedBook = true

    @Option(name: .long, help: ArgumentHelp("Write one JSON line per question and run (answer, citations, scores) to this file.", valueName: "file"))
    var out: String?

    @Flag(name: .long, help: "Print the summary as JSON.")
    var json = false

    @Argument(help: ArgumentHelp("The question-set folder.", valueName: "dataset-dir"))
    var datasetDirectory: String

    func validate() throws {
        guard ["dev", "test", "all"].contains(split) else { throw ValidationError("--split must be dev, test or all (got \(split))") }
        guard (1...20).contains(topK) else { throw ValidationError("--top-k must be between 1 and 20 (got \(topK))") }
        guard (1...8192).contains(maxTokens) else { throw ValidationError("--max-tokens must be between 1 and 8192 (got \(maxTokens))") }
    }

    /// The closed-book baseline's instructions: the same brevity, no sources.
    static let closedBookSystemPrompt = """
        You are a helpful assistant. Answer in one to three short sentences and give the exact name, number \
        or value the question asks for. If you do not know, say so. Answer in the language of the question.
        """

    struct Summary: Encodable {
        var dataset: String
        var split: String
        var model: String
        var openBook: AnswerScoring.Summary
        var closedBook: AnswerScoring.Summary?
        /// Accuracy per question kind: [kind: [open, closed]].
        var accuracyByKind: [String: [Double?]]

        enum CodingKeys: String, CodingKey {
            case dataset, split, model, openBook = "open_book", closedBook = "closed_book", accuracyByKind = "accuracy_by_kind"
        }
    }

    /// One line of `--out`.
    struct Record: Encodable {
        var run: String
        var observation: AnswerScoring.Observation
        var correct: Bool?
        var sentences: [AttributedSentence]?
        var sources: [String]?
    }

    func run() async throws {
        let directory = URL(fileURLWithPath: datasetDirectory, isDirectory: true)
        let set: AnswerQuestionSet
        do {
            set = try AnswerQuestionSet(directory: directory)
        } catch let error as EvaluationError {
            throw CLIError(error.description)
        }
        var questions = set.questions.filter { (split == "all" || $0.split == split) && (onlyKinds.isEmpty || onlyKinds.contains($0.kind)) }
        if let limit { questions = Array(questions.prefix(max(1, limit))) }
        guard !questions.isEmpty else { throw CLIError("\(directory.path): no \(split) questions") }

        let path = db ?? directory.appendingPathComponent("kb-eval.sqlite").path
        let store: KBDatabase
        do {
            store = try KBDatabase(path: path, mode: .readWrite)
        } catch let error as StoreError {
            throw CLIError(error.description)
        }
        let embedderName = try EvalCorpus.ingest(set.documentsFile, into: store, path: path, embedder: embedder,
                                                 loadVectors: true, models: modelsOption, quiet: json)
        openblas_set_num_threads(1)
        let knowledge = try modelsOption.knowledgeBase(store, embedder: embedderName)
        guard let generator = try AnswerModelLoader.load(model, models: modelsOption, threads: threads) else {
            throw CLIError("--model is required")
        }
        let answers = AnswerService(knowledge: knowledge, generator: generator)
        let parameters = GenerationParameters(maxTokens: maxTokens)
        var records: [Record] = []   // for --out

        var open: [AnswerScoring.Observation] = []
        var closed: [AnswerScoring.Observation] = []
        let showProgress = !json && StandardError.isTerminal
        for (n, question) in questions.enumerated() {
            if showProgress { StandardError.write("\r\u{1B}[2Kquestion \(n + 1)/\(questions.count)") }
            let started = ContinuousClock.now
            let firstPiece = Locked<ContinuousClock.Instant?>(nil)
            let lastPiece = Locked<ContinuousClock.Instant?>(nil)
            let report: AnswerReport
            do {
                report = try await answers.ask(question.question, topK: topK, parameters: parameters) { _ in
                    let now = ContinuousClock.now
                    firstPiece.withLock { if $0 == nil { $0 = now } }
                    lastPiece.withLock { $0 = now }
                }
            } catch let error as APIError {
                throw CLIError("question \(question.id): \(error.message)")
            }
            let ended = ContinuousClock.now
            let claims = report.sentences.filter(\.needsSupport)
            var observation = AnswerScoring.Observation(
                question: question, answer: report.text, abstained: !report.grounded,
                claimSentences: claims.count, citedSentences: claims.filter { !$0.citations.isEmpty }.count,
                citedDocuments: report.sentences.flatMap { sentence in
                    sentence.citations.compactMap { citation in report.sources.first { $0.marker == citation.marker }?.uri }
                },
                evidenceRetrieved: report.sources.contains { question.evidence.contains($0.uri) },
                timeToFirstToken: firstPiece.current.map { ($0 - started).seconds }, totalSeconds: (ended - started).seconds,
                answerTokens: report.outcome.usage.completionTokens,
                attributionSeconds: report.sources.isEmpty ? nil : lastPiece.current.map { (ended - $0).seconds })
            observation.onlyMarkers = AnswerScoring.isOnlyMarkers(report.text)
            observation.copiesOpening = AnswerScoring.copiesOpening(report.text, of: report.sources.map(\.text))
            observation.promptTokens = report.outcome.usage.promptTokens
            observation.cachedPromptTokens = report.outcome.usage.cachedPromptTokens
            open.append(observation)
            records.append(Record(run: "open_book", observation: observation, correct: observation.correct,
                                  sentences: report.sentences, sources: report.sources.map(\.uri)))

            if closedBook {
                let observation = try await closedBookAnswer(question, generator: generator, parameters: parameters)
                closed.append(observation)
                records.append(Record(run: "closed_book", observation: observation, correct: observation.correct))
            }
        }
        if showProgress { StandardError.write("\r\u{1B}[2K") }

        if let out {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            var data = Data()
            for record in records {
                data += try encoder.encode(record)
                data += Data("\n".utf8)
            }
            try data.write(to: URL(fileURLWithPath: out))
        }

        let kinds = Array(Set(questions.map(\.kind))).sorted()
        var byKind: [String: [Double?]] = [:]
        for kind in kinds {
            byKind[kind] = [AnswerScoring.summarize(open.filter { $0.question.kind == kind }).accuracy,
                            closedBook ? AnswerScoring.summarize(closed.filter { $0.question.kind == kind }).accuracy : nil]
        }
        let summary = Summary(dataset: directory.lastPathComponent, split: split, model: generator.modelID,
                              openBook: AnswerScoring.summarize(open),
                              closedBook: closedBook ? AnswerScoring.summarize(closed) : nil, accuracyByKind: byKind)
        if json {
            try printJSON(summary)
            return
        }
        print(Self.table(summary))
    }

    /// The model alone, with no sources.
    func closedBookAnswer(_ question: AnswerQuestionSet.Question, generator: any AnswerGenerator,
                          parameters: GenerationParameters) async throws -> AnswerScoring.Observation {
        let started = ContinuousClock.now
        let firstPiece = Locked<ContinuousClock.Instant?>(nil)
        let collected = Locked("")
        let prompt: PreparedPrompt
        do {
            prompt = try generator.prepare([PromptMessage(.system, Self.closedBookSystemPrompt), PromptMessage(.user, question.question)])
        } catch let error as APIError {
            throw CLIError("question \(question.id): \(error.message)")
        }
        _ = try await generator.generate(prompt, parameters: parameters) { piece in
            firstPiece.withLock { if $0 == nil { $0 = .now } }
            collected.withLock { $0 += piece }
        }
        let ended = ContinuousClock.now
        // Closed book has no citations and no grounding: it "abstains" only by saying it does not know.
        let text = collected.current
        return AnswerScoring.Observation(
            question: question, answer: text, abstained: Self.saysItDoesNotKnow(text), claimSentences: 0,
            citedSentences: 0, citedDocuments: [], evidenceRetrieved: false,
            timeToFirstToken: firstPiece.current.map { ($0 - started).seconds }, totalSeconds: (ended - started).seconds)
    }

    /// Whether a closed-book answer declines (English and Chinese phrasings).
    static func saysItDoesNotKnow(_ text: String) -> Bool {
        let lower = text.lowercased()
        return ["i don't know", "i do not know", "not sure", "i'm sorry", "i am sorry", "cannot answer", "can't answer",
                "don't have", "do not have", "不知道", "无法回答", "不确定", "抱歉"].contains { lower.contains($0) }
    }

    static func table(_ summary: Summary) -> String {
        func cell(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "    -" }
        func seconds(_ value: Double?) -> String { value.map { String(format: "%.2f", $0) } ?? "   -" }
        let o = summary.openBook
        var text = "\(summary.dataset) \(summary.split): \(o.questions) questions (\(o.scoredQuestions) with a reference answer, "
            + "\(o.unanswerableQuestions) unanswerable), model \(summary.model)\n"
        text += "run          accuracy  coverage  precision  abstention  false_abst  evidence@k  ttft_s  total_s  tokens  attrib_ms(med/max)\n"
        func row(_ name: String, _ s: AnswerScoring.Summary) -> String {
            name.padding(toLength: 12, withPad: " ", startingAt: 0)
                + " \(cell(s.accuracy))     \(cell(s.citationCoverage))     \(cell(s.citationPrecision))      "
                + "\(cell(s.abstention))       \(cell(s.falseAbstention))       \(cell(s.evidenceRecall))     "
                + "\(seconds(s.medianTimeToFirstToken))    \(seconds(s.medianTotalSeconds))    "
                + "\(s.medianAnswerTokens.map { String(format: "%4.0f", $0) } ?? "   -")    "
                + "\(s.medianAttributionMilliseconds.map { String(format: "%.1f", $0) } ?? "-")/"
                + "\(s.maxAttributionMilliseconds.map { String(format: "%.1f", $0) } ?? "-")\n"
        }
        text += row("open book", o)
        if let closed = summary.closedBook { text += row("closed book", closed) }
        text += "open book: \(o.onlyMarkers) answers only markers, \(o.copiedOpenings) copy a source's opening sentence; "
            + "\(o.cachedPromptShare.map { String(format: "%.1f %%", $0 * 100) } ?? "-") of prompt tokens from cached KV blocks\n"
        text += "accuracy by kind (open / closed):\n"
        for (kind, values) in summary.accuracyByKind.sorted(by: { $0.key < $1.key }) {
            text += "  \(kind.padding(toLength: 20, withPad: " ", startingAt: 0)) \(cell(values[0])) / \(cell(values.count > 1 ? values[1] : nil))\n"
        }
        return text
    }
}
