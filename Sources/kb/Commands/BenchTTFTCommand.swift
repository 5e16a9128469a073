import ArgumentParser
import Foundation
import KBLLM
import KBSupport

/// `kb bench ttft`: time to first token of a long prompt, cold and with its start in the prefix cache.
struct BenchTTFTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ttft",
        abstract: "Measure the time to first token of a long prompt, cold and with a cached prefix.",
        discussion: """
            The prompts come from the tokens of --prompt-file: each is its first --cached-tokens
            tokens (the shared prefix, e.g. a system prompt and retrieved passages) followed by a
            different stretch of --prompt-tokens minus --cached-tokens tokens (the question), so no
            run can reuse another's suffix. Cold: a session without the prefix cache. Cached: the
            prefix is evaluated once and published to the prefix cache, then each prompt reuses it
            (whole cache blocks only). Time to first token = evaluating the prompt + choosing a token.
            """)

    @OptionGroup var language: LanguageModelOptions

    @Option(name: .long, help: ArgumentHelp("Text whose tokens make the prompts.", valueName: "file"))
    var promptFile: String

    @Option(name: .long, help: "Tokens per prompt.")
    var promptTokens = 1500

    @Option(name: .long, help: "Tokens of the shared prefix.")
    var cachedTokens = 1200

    @Option(name: .long, help: "Timed runs of each case.")
    var repetitions = 3

    @Flag(name: .long, help: "Print as JSON.")
    var json = false

    func validate() throws {
        if cachedTokens < 1 || cachedTokens >= promptTokens {
            throw ValidationError("--cached-tokens must be between 1 and --prompt-tokens − 1")
        }
        if repetitions < 1 { throw ValidationError("--repetitions must be at least 1") }
    }

    struct Output: Encodable {
        var model: String
        var threads: Int
        var promptTokens: Int
        var cachedTokens: Int
        var reusedTokens: Int
        var coldMilliseconds: [Double]
        var cachedMilliseconds: [Double]
        var medianColdMilliseconds: Double
        var medianCachedMilliseconds: Double
        var ratio: Double

        enum CodingKeys: String, CodingKey {
            case model, threads, promptTokens = "prompt_tokens", cachedTokens = "cached_tokens",
                 reusedTokens = "reused_tokens", coldMilliseconds = "cold_ms", cachedMilliseconds = "cached_ms",
                 medianColdMilliseconds = "median_cold_ms", medianCachedMilliseconds = "median_cached_ms", ratio
        }
    }

    func run() throws {
        guard let text = try? String(contentsOfFile: promptFile, encoding: .utf8) else {
            throw CLIError("\(promptFile): cannot read the prompt file as UTF-8 text")
        }
        let model = try language.load()
        let all = model.tokenizer.encode(text, addSpecial: true, parseSpecial: true)
        let suffixLength = promptTokens - cachedTokens
        let needed = cachedTokens + (repetitions + 1) * suffixLength
        guard all.count >= needed else {
            throw CLIError("\(promptFile): \(all.count) tokens; \(needed) are needed for \(repetitions + 1) prompts")
        }
        let prefix = Array(all[..<cachedTokens])
        func prompt(_ run: Int) -> [Int32] {
            let start = cachedTokens + run * suffixLength
            return prefix + all[start..<start + suffixLength]
        }
        /// Milliseconds to the first token of `prompt` on a fresh session.
        func timeToFirstToken(_ prompt: [Int32], cached: Bool) throws -> (Double, InferenceSession) {
            let session = model.makeSession(contextLength: promptTokens + 1, usePrefixCache: cached)
            var sampler = try Sampler(parameters: .greedy)
            let start = ContinuousClock.now
            _ = sampler.sample(try session.prefill(prompt))
            return ((ContinuousClock.now - start).milliseconds, session)
        }

        var cold: [Double] = [], warm: [Double] = []
        var reused = 0
        do {
            _ = try timeToFirstToken(prompt(0), cached: false)  // warm-up, and nothing published
            for run in 1...repetitions { cold.append(try timeToFirstToken(prompt(run), cached: false).0) }
            _ = try model.makeSession(contextLength: cachedTokens, usePrefixCache: true).prefill(prefix)
            for run in 1...repetitions {
                let (milliseconds, session) = try timeToFirstToken(prompt(run), cached: true)
                warm.append(milliseconds)
                reused = session.lastPrefill.reusedFromCache
            }
        } catch {
            throw CLIError("\(error)")
        }
        let output = Output(
            model: URL(fileURLWithPath: model.file.path).lastPathComponent, threads: model.threadPool.threadCount,
            promptTokens: promptTokens, cachedTokens: cachedTokens, reusedTokens: reused,
            coldMilliseconds: cold, cachedMilliseconds: warm, medianColdMilliseconds: BenchTiming.median(cold),
            medianCachedMilliseconds: BenchTiming.median(warm), ratio: BenchTiming.median(warm) / BenchTiming.median(cold))
        if json {
            try printJSON(output)
            return
        }
        print(String(format: "%@, %d threads, %d-token prompt: cold %.0f ms, with %d tokens cached (%d reused) %.0f ms, ratio %.3f",
                     output.model, output.threads, promptTokens, output.medianColdMilliseconds, cachedTokens, reused,
                     output.medianCachedMilliseconds, output.ratio))
    }
}
