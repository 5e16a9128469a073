import ArgumentParser
import Foundation
import KBLLM
import KBSupport

/// `kb bench generate`: prompt-processing and generation speed of the local language model,
/// measured the way llama-bench measures them.
struct BenchGenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Measure prompt processing (ppN) and generation (tgN) speed in tokens/s.",
        discussion: """
            As llama-bench: ppN evaluates N random tokens in one call on an empty context; tgN
            evaluates one random token at a time, N times, from an empty context (no sampling).
            Each test runs once to warm up, then --repetitions times; the median is reported.
            """)

    @OptionGroup var language: LanguageModelOptions

    @Option(name: .long, help: "Prompt tokens of the prompt-processing test (0 skips it).")
    var promptTokens = 512

    @Option(name: .long, help: "Tokens of the generation test (0 skips it).")
    var genTokens = 128

    @Option(name: .long, help: "Timed runs of each test.")
    var repetitions = 3

    @Flag(name: .long, help: "Print as JSON.")
    var json = false

    func validate() throws {
        if promptTokens < 0 || genTokens < 0 { throw ValidationError("token counts must be 0 or more") }
        if repetitions < 1 { throw ValidationError("--repetitions must be at least 1") }
    }

    struct Test: Encodable {
        var name: String
        var tokens: Int
        var tokensPerSecond: [Double]
        var medianTokensPerSecond: Double

        enum CodingKeys: String, CodingKey {
            case name, tokens, tokensPerSecond = "tokens_per_second", medianTokensPerSecond = "median_tokens_per_second"
        }
    }

    struct Output: Encodable {
        var model: String
        var sizeBytes: Int
        var threads: Int
        /// The family of kernels that ran (``KernelSet/family``).
        var kernels: String
        var loadMilliseconds: Double
        var peakRSSBytes: Int
        var tests: [Test]

        enum CodingKeys: String, CodingKey {
            case model, sizeBytes = "size_bytes", threads, kernels, loadMilliseconds = "load_ms",
                 peakRSSBytes = "peak_rss_bytes", tests
        }
    }

    func run() throws {
        let loadStart = ContinuousClock.now
        let model = try language.load()
        let loadMilliseconds = (ContinuousClock.now - loadStart).milliseconds
        let contextLength = max(promptTokens, genTokens) + 1
        var random = RandomSource(seed: 1234)
        let vocabulary = model.tokenizer.vocabularySize
        func randomTokens(_ count: Int) -> [Int32] { (0..<count).map { _ in Int32(random.next() % UInt64(vocabulary)) } }

        /// Seconds of one run of `body` on a fresh session.
        func time(_ body: (InferenceSession) throws -> Void) throws -> Double {
            let session = model.makeSession(contextLength: contextLength, usePrefixCache: false)
            let start = ContinuousClock.now
            try body(session)
            return (ContinuousClock.now - start).milliseconds / 1000
        }
        func measure(_ name: String, tokens: Int, _ body: @escaping (InferenceSession) throws -> Void) throws -> Test {
            _ = try time(body)  // warm-up
            var rates: [Double] = []
            for _ in 0..<repetitions { rates.append(Double(tokens) / (try time(body))) }
            return Test(name: name, tokens: tokens, tokensPerSecond: rates, medianTokensPerSecond: BenchTiming.median(rates))
        }

        var tests: [Test] = []
        do {
            if promptTokens > 0 {
                let prompt = randomTokens(promptTokens)
                tests.append(try measure("pp\(promptTokens)", tokens: promptTokens) { session in
                    _ = try session.evaluate(prompt)
                })
            }
            if genTokens > 0 {
                let tokens = randomTokens(genTokens)
                tests.append(try measure("tg\(genTokens)", tokens: genTokens) { session in
                    for token in tokens { _ = try session.evaluate([token]) }
                })
            }
        } catch {
            throw CLIError("\(error)")
        }

        let output = Output(model: URL(fileURLWithPath: model.file.path).lastPathComponent, sizeBytes: model.file.fileSize,
                            threads: model.threadPool.threadCount, kernels: KernelSet.family, loadMilliseconds: loadMilliseconds,
                            peakRSSBytes: BenchTiming.peakResidentBytes(), tests: tests)
        if json {
            try printJSON(output)
            return
        }
        print(String(format: "%@ (%.1f MiB), %d threads, %@ kernels: load %.0f ms, peak RSS %.1f MiB", output.model,
                     Double(output.sizeBytes) / 1_048_576, output.threads, output.kernels, loadMilliseconds,
                     Double(output.peakRSSBytes) / 1_048_576))
        print("| test   |     t/s (median) | runs")
        for test in tests {
            let name = test.name.padding(toLength: max(6, test.name.count), withPad: " ", startingAt: 0)
            print(String(format: "| %@ | %16.2f | %@", name, test.medianTokensPerSecond,
                         test.tokensPerSecond.map { String(format: "%.2f", $0) }.joined(separator: ", ")))
        }
    }
}

/// Small helpers shared by the language-model benchmarks.
enum BenchTiming {
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// The process's peak resident set size so far (Linux reports `ru_maxrss` in KiB).
    static func peakResidentBytes() -> Int {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Int(usage.ru_maxrss) * 1024
        #else
        getrusage(RUSAGE_SELF, &usage)
        return Int(usage.ru_maxrss)
        #endif
    }
}
