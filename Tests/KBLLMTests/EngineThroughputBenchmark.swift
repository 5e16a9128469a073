import Foundation
import XCTest
@testable import KBLLM

/// The engine's speed on one model: load time, prompt processing, generation and time to first
/// token with and without a cached prefix. Skipped unless `KB_BENCH=1`; build it in release:
///
///     swift build -c release --build-tests --scratch-path .build-release \
///       -Xswiftc -enable-testing -Xswiftc -target-cpu -Xswiftc native
///     KB_BENCH=1 KB_BENCH_MODEL=qwen2.5-coder-0.5b-instruct-q4_k_m.gguf KB_BENCH_THREADS=2 \
///       /usr/bin/time -v swift test --skip-build -c release --scratch-path .build-release \
///       --filter EngineThroughputBenchmark
///
/// Environment: `KB_BENCH_MODEL` (a file in the models folder; SmolLM2 by default),
/// `KB_BENCH_THREADS` (2), `KB_BENCH_PROMPT` (512 prompt tokens), `KB_BENCH_GENERATE` (128 tokens),
/// `KB_BENCH_RAG` (1,500-token prompt) and `KB_BENCH_RAG_CACHED` (its first 1,200 tokens cached),
/// `KB_BENCH_RUNS` (prompt-processing runs, median; 1). Prints `KB_BENCH_JSON {...}` and the
/// process's peak resident memory (VmHWM).
final class EngineThroughputBenchmark: XCTestCase {
    static let environment = ProcessInfo.processInfo.environment

    static func integer(_ name: String, _ fallback: Int) -> Int {
        environment[name].flatMap { Int($0) } ?? fallback
    }

    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// Prompt tokens: English prose of the tokenizer's own vocabulary, `count` long.
    static func promptTokens(_ model: LanguageModel, count: Int, seed: String) -> [Int32] {
        let text = (0..<count).map { "\(seed) paragraph \($0): the knowledge base stores documents, splits them into chunks, "
            + "embeds every chunk and answers questions by retrieving the closest passages. " }.joined()
        return Array(model.tokenizer.encode(text).prefix(count))
    }

    func testEngineThroughput() throws {
        guard Self.environment["KB_BENCH"] == "1" else { throw XCTSkip("benchmark: set KB_BENCH=1 (and build with -c release)") }
        let file = Self.environment["KB_BENCH_MODEL"] ?? EngineModels.smolLM2
        let threads = Self.integer("KB_BENCH_THREADS", 2)
        let promptLength = Self.integer("KB_BENCH_PROMPT", 512)
        let generateCount = Self.integer("KB_BENCH_GENERATE", 128)
        let ragLength = Self.integer("KB_BENCH_RAG", 1500)
        let ragCached = Self.integer("KB_BENCH_RAG_CACHED", 1200)
        let runs = Self.integer("KB_BENCH_RUNS", 1)
        let path = try EngineModels.path(file)

        var model: LanguageModel!
        let load = try Self.seconds {
            model = try LanguageModel(path: path, options: .init(
                threads: threads, contextLength: max(promptLength + generateCount, ragLength) + 16, kvCacheBytes: 1 << 30))
        }

        // Prompt processing: one batch of `promptLength` tokens into an empty context.
        let prompt = Self.promptTokens(model, count: promptLength, seed: "pp")
        var ppTimes: [Double] = []
        var session = model.makeSession(usePrefixCache: false)
        for _ in 0..<runs {
            session = model.makeSession(usePrefixCache: false)
            ppTimes.append(try Self.seconds { _ = try session.evaluate(prompt) })
        }
        let pp = Double(promptLength) / ppTimes.sorted()[ppTimes.count / 2]

        // Generation: `generateCount` single-token steps after that prompt (greedy).
        var logits = try session.evaluate([prompt.last!])
        let tg = Double(generateCount) / (try Self.seconds {
            for _ in 0..<generateCount {
                logits = try session.evaluate([Int32(argmax(logits[...]))])
            }
        })

        // Time to first token of a RAG-sized prompt: cold, then with its first `ragCached` tokens cached.
        let rag = Self.promptTokens(model, count: ragLength, seed: "rag")
        let cold = try Self.seconds { _ = try model.makeSession(usePrefixCache: false).prefill(rag) }
        _ = try model.makeSession().prefill(Array(rag[..<ragCached]))  // publishes the shared prefix
        let warmSession = model.makeSession()
        let warm = try Self.seconds { _ = try warmSession.prefill(rag) }

        let peak = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("VmHWM") }.map(String.init) ?? "VmHWM unknown"
        let report: [String: Any] = [
            "model": file, "threads": threads, "loadSeconds": load,
            "promptTokens": promptLength, "promptTokensPerSecond": pp,
            "generatedTokens": generateCount, "generationTokensPerSecond": tg,
            "ragTokens": ragLength, "ragCachedTokens": warmSession.lastPrefill.reusedFromCache,
            "ttftColdSeconds": cold, "ttftCachedSeconds": warm, "ttftRatio": warm / cold,
            "peakRSS": peak,
        ]
        let json = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
        print("KB_BENCH_JSON \(String(decoding: json, as: UTF8.self))")
    }
}
