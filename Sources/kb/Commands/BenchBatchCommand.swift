import ArgumentParser
import Foundation
import KBLLM
import KBSupport

/// `kb bench batch`: the batching engine's aggregate decode speed with many streams, and the gaps
/// between tokens of running streams while new prompts arrive.
struct BenchBatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Measure continuous batching: decode speed of N streams together, and token gaps while prompts arrive.",
        discussion: """
            decode: for each N of --streams, N sessions of the batching engine each prefill --prompt-tokens
            random tokens and then decode --gen-tokens tokens (greedy, end of text ignored), all at once.
            The decode speed is the tokens produced while all N decode (from the last stream's first token
            to the last stream's end) over that time: llama-batched-bench's S_TG for the same sizes.
            gaps (--arrival-period > 0): --streams' largest N decode while a new session with
            --arrival-tokens prompt tokens arrives every --arrival-period seconds (one token each);
            p50/p99/max gap between consecutive tokens of the decoding streams.
            """)

    @OptionGroup var language: LanguageModelOptions

    @Option(name: .long, help: "Comma-separated stream counts (default 1,16).")
    var streams = "1,16"

    @Option(name: .long, help: "Prompt tokens of each stream (default 128).")
    var promptTokens = 128

    @Option(name: .long, help: "Tokens each stream decodes (default 128).")
    var genTokens = 128

    @Option(name: .long, help: "Timed runs of each test (default 3; the median is reported).")
    var repetitions = 3

    @Option(name: .long, help: "Tokens per forward pass of the engine (default 256).")
    var batchTokens = 256

    @Option(name: .long, help: "Seconds between arriving prompts in the gaps test (0 skips it).")
    var arrivalPeriod = 0.0

    @Option(name: .long, help: "Prompt tokens of each arriving prompt (default 600).")
    var arrivalTokens = 600

    @Flag(name: .long, help: "Print as JSON.")
    var json = false

    func validate() throws {
        if streamCounts.isEmpty || streamCounts.contains(where: { $0 < 1 }) { throw ValidationError("--streams: counts of 1 or more") }
        if promptTokens < 1 || genTokens < 2 { throw ValidationError("--prompt-tokens must be 1 or more, --gen-tokens 2 or more") }
        if repetitions < 1 { throw ValidationError("--repetitions must be at least 1") }
    }

    var streamCounts: [Int] { streams.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    struct Decode: Encodable {
        var streams: Int
        var tokensPerSecond: [Double]
        var medianTokensPerSecond: Double
        enum CodingKeys: String, CodingKey {
            case streams, tokensPerSecond = "tokens_per_second", medianTokensPerSecond = "median_tokens_per_second"
        }
    }

    struct Gaps: Encodable {
        var streams: Int
        var arrivals: Int
        var p50Milliseconds: Double
        var p99Milliseconds: Double
        var maxMilliseconds: Double
        enum CodingKeys: String, CodingKey {
            case streams, arrivals, p50Milliseconds = "p50_ms", p99Milliseconds = "p99_ms", maxMilliseconds = "max_ms"
        }
    }

    struct Output: Encodable {
        var model: String
        var threads: Int
        var promptTokens: Int
        var genTokens: Int
        var decode: [Decode]
        var gaps: Gaps?
        var peakRSSBytes: Int
        enum CodingKeys: String, CodingKey {
            case model, threads, promptTokens = "prompt_tokens", genTokens = "gen_tokens", decode, gaps, peakRSSBytes = "peak_rss_bytes"
        }
    }

    /// One stream's token times (seconds since a common start).
    final class Times: @unchecked Sendable {
        private let lock = NSLock()
        private var streams: [[Double]] = []
        func add(_ times: [Double]) { lock.withLock { streams.append(times) } }
        var all: [[Double]] { lock.withLock { streams } }
    }

    func run() throws {
        let model = try language.load()
        let maxStreams = streamCounts.max()!
        let engine = BatchEngine(model: model, settings: .init(maxRunning: maxStreams + 1, tokenBudget: batchTokens))
        let vocabulary = UInt64(model.tokenizer.vocabularySize)
        let counter = Locked(UInt64(0))
        @Sendable func randomTokens(_ count: Int) -> [Int32] {
            let seed = counter.withLock { value -> UInt64 in value += 1; return value }
            var random = RandomSource(seed: seed * 7919)
            return (0..<count).map { _ in Int32(random.next() % vocabulary) }
        }
        let clock = ContinuousClock()
        let origin = clock.now
        @Sendable func now() -> Double { (clock.now - origin).milliseconds / 1000 }

        /// N streams at once; returns each stream's token times.
        func runStreams(_ n: Int, alongside: (() -> Void)? = nil) throws -> [[Double]] {
            let times = Times()
            let failure = Locked<(any Error)?>(nil)
            let group = DispatchGroup()
            for _ in 0..<n {
                let prompt = randomTokens(promptTokens)
                group.enter()
                let thread = Thread {
                    defer { group.leave() }
                    do {
                        let session = engine.makeSession(contextLength: promptTokens + genTokens + 1)
                        defer { session.close() }
                        var stamps: [Double] = []
                        var logits = try session.prefill(prompt)
                        for step in 0..<genTokens {
                            stamps.append(now())
                            guard step < genTokens - 1 else { break }
                            logits = try session.evaluateNext(Int32(Self.argmax(logits)))
                        }
                        times.add(stamps)
                    } catch {
                        failure.withLock { $0 = error }
                    }
                }
                thread.stackSize = 8 << 20
                thread.start()
            }
            alongside?()
            group.wait()
            if let error = failure.current { throw CLIError("\(error)") }
            return times.all
        }

        var decodes: [Decode] = []
        for n in streamCounts {
            _ = try runStreams(n)   // warm-up
            var rates: [Double] = []
            for _ in 0..<repetitions {
                let streams = try runStreams(n)
                let start = streams.map { $0[0] }.max()!, end = streams.map { $0.last! }.max()!
                let tokens = streams.reduce(0) { $0 + $1.filter { $0 > start }.count }
                rates.append(Double(tokens) / max(1e-9, end - start))
            }
            decodes.append(Decode(streams: n, tokensPerSecond: rates, medianTokensPerSecond: BenchTiming.median(rates)))
        }

        var gaps: Gaps?
        if arrivalPeriod > 0 {
            let arrivals = Locked(0)
            let stop = Locked(false)
            let streams = try runStreams(maxStreams) {
                let arriving = Thread {
                    while !stop.current {
                        Thread.sleep(forTimeInterval: arrivalPeriod)
                        if stop.current { break }
                        let prompt = randomTokens(arrivalTokens)
                        let newcomer = Thread {
                            let session = engine.makeSession(contextLength: arrivalTokens + 1)
                            _ = try? session.prefill(prompt)
                            session.close()
                        }
                        newcomer.stackSize = 8 << 20
                        newcomer.start()
                        arrivals.withLock { $0 += 1 }
                    }
                }
                arriving.start()
            }
            stop.withLock { $0 = true }
            let between = streams.flatMap { times in zip(times, times.dropFirst()).map { ($1 - $0) * 1000 } }.sorted()
            func percentile(_ p: Double) -> Double { between[min(between.count - 1, Int((p * Double(between.count)).rounded(.up)) - 1)] }
            gaps = Gaps(streams: maxStreams, arrivals: arrivals.current, p50Milliseconds: percentile(0.5),
                        p99Milliseconds: percentile(0.99), maxMilliseconds: between.last ?? 0)
        }

        let output = Output(model: URL(fileURLWithPath: model.file.path).lastPathComponent, threads: model.threadPool.threadCount,
                            promptTokens: promptTokens, genTokens: genTokens, decode: decodes, gaps: gaps,
                            peakRSSBytes: BenchTiming.peakResidentBytes())
        if json {
            try printJSON(output)
            return
        }
        print("\(output.model), \(output.threads) threads, prompts of \(promptTokens) tokens, \(genTokens) generated, "
              + String(format: "peak RSS %.1f MiB", Double(output.peakRSSBytes) / 1_048_576))
        for decode in decodes {
            print(String(format: "decode, %2d streams: %8.2f tok/s (median; runs %@)", decode.streams, decode.medianTokensPerSecond,
                         decode.tokensPerSecond.map { String(format: "%.2f", $0) }.joined(separator: ", ")))
        }
        if let gaps {
            print(String(format: "gaps, %d streams, %d arriving prompts of %d tokens: p50 %.1f ms, p99 %.1f ms, max %.1f ms",
                         gaps.streams, gaps.arrivals, arrivalTokens, gaps.p50Milliseconds, gaps.p99Milliseconds, gaps.maxMilliseconds))
        }
    }

    static func argmax(_ logits: [Float]) -> Int {
        var best = 0
        for index in logits.indices where logits[index] > logits[best] { best = index }
        return best
    }
}
