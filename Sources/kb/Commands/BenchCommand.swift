import ArgumentParser
import Foundation
import KBSearch
import KBStore

/// `kb bench`: measurements of kb's own code paths.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure kb's performance on your data.",
        subcommands: [BenchSearchCommand.self, BenchVectorsCommand.self, BenchEmbedCommand.self, BenchGenerateCommand.self, BenchTTFTCommand.self, BenchBatchCommand.self, BenchReadCommand.self])
}

/// `kb bench search`: per-query latency of search over a file of queries.
struct BenchSearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Run every query of a file through search and report latency percentiles.",
        discussion: """
            QUERIES is a JSON Lines file with a "text" field per line (BEIR queries.jsonl) or a plain
            text file with one query per line. Each query is run --passes times after one warm-up pass;
            latency covers parsing, the FTS5 query, loading the chunks and building snippets (and, in
            vector and hybrid modes, embedding the query, the vector scan and fusion).
            """)

    @OptionGroup var database: DatabaseOption
    @OptionGroup var modelsOption: ModelsOption
    @OptionGroup var tuning: SearchTuningOptions

    @Option(name: .long, help: "Search mode (lexical runs the FTS5 path alone, as the SQLite-only anchor does).")
    var mode: SearchMode = .lexical

    @Argument(help: ArgumentHelp("Queries file.", valueName: "queries"))
    var queries: String

    @Option(name: .long, help: "Results per query.")
    var topK: Int = 10

    @Option(name: .long, help: "Timed passes over the queries.")
    var passes: Int = 3

    @Option(name: .long, help: ArgumentHelp("Also write each query's FTS5 MATCH expression, one per line, to this file (for an SQLite-only anchor).", valueName: "file"))
    var writeMatchExpressions: String?

    @Flag(name: .long, help: "Print as JSON.")
    var json = false

    struct Output: Encodable {
        var queries: Int
        var passes: Int
        var p50Milliseconds: Double
        var p90Milliseconds: Double
        var p99Milliseconds: Double
        var meanMilliseconds: Double
        var meanResults: Double

        enum CodingKeys: String, CodingKey {
            case queries, passes, p50Milliseconds = "p50_ms", p90Milliseconds = "p90_ms", p99Milliseconds = "p99_ms",
                 meanMilliseconds = "mean_ms", meanResults = "mean_results"
        }
    }

    func run() throws {
        let texts = try loadQueries()
        guard !texts.isEmpty else { throw CLIError("\(queries): no queries found") }
        let store = try database.open(.readOnly)
        let search = LexicalSearch(store: store)
        if let path = writeMatchExpressions {
            let lines = try texts.map { try search.matchExpression(for: $0) ?? "" }
            try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        }
        let engine = mode == .lexical ? nil : try tuning.engine(store, models: modelsOption, needVectors: true)
        if let engine, !engine.hasVectors { throw CLIError("--mode \(mode.rawValue): this knowledge base has no vectors") }
        let filters = tuning.filters
        func run(_ text: String) throws -> Int {
            guard let engine else { return try search.search(text, topK: topK).count }
            do { return try engine.search(text, mode: mode, topK: topK, filters: filters).count } catch let error as SearchError {
                throw CLIError(error.description)
            }
        }
        for text in texts { _ = try run(text) }     // warm-up: page cache, statements
        var latencies: [Double] = []
        var results = 0
        for _ in 0..<max(1, passes) {
            for text in texts {
                let start = DispatchTime.now().uptimeNanoseconds
                results += try run(text)
                latencies.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
        }
        latencies.sort()
        func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(p * Double(latencies.count)))] }
        let output = Output(queries: texts.count, passes: max(1, passes), p50Milliseconds: percentile(0.5),
                            p90Milliseconds: percentile(0.9), p99Milliseconds: percentile(0.99),
                            meanMilliseconds: latencies.reduce(0, +) / Double(latencies.count),
                            meanResults: Double(results) / Double(latencies.count))
        if json {
            try printJSON(output)
        } else {
            print(String(format: "%d queries x %d passes: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, mean %.2f ms",
                         output.queries, output.passes, output.p50Milliseconds, output.p90Milliseconds,
                         output.p99Milliseconds, output.meanMilliseconds))
        }
    }

    private func loadQueries() throws -> [String] {
        guard let data = FileManager.default.contents(atPath: queries) else {
            throw CLIError("\(queries): cannot read the queries file")
        }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
        return lines.map { line in
            if line.hasPrefix("{"), let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
               let text = object["text"] as? String {
                return text
            }
            return String(line)
        }
    }
}
