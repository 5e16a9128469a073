import COpenBLAS
import Foundation
import XCTest
@testable import KBEmbedding

/// kb's side of bench/embedding-throughput.sh: embedding throughput of ``MiniLMEmbedder``, and
/// the sgemm rate it is measured against. Skipped unless `KB_BENCH=1`; build it in release:
///
///     KB_BENCH=1 KB_BENCH_THREADS=2 OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=Cooperlake \
///       swift test --scratch-path .build-emb -c release -Xswiftc -target-cpu -Xswiftc native \
///       --filter EmbeddingThroughputBenchmark
///
/// Environment: `KB_BENCH_TEXTS` (JSON lines with a `text` field; default
/// corpora/out/debian-eval/corpus.jsonl), `KB_BENCH_DOCS` (first N lines, 2000), `KB_BENCH_THREADS`
/// (embedder worker threads, 1), `KB_BENCH_RUNS` (3), `KB_BENCH_BATCH_TOKENS` (the embedder's
/// default). Prints one line `KB_BENCH_JSON {...}` with median tokens/s and docs/s, the best sgemm
/// GFLOP/s of [8192 × 384]·[384 × 1536] measured in the same process, and the fraction of that
/// rate the encoder reaches (its FLOPs, attention included, per second ÷ sgemm FLOP/s).
final class EmbeddingThroughputBenchmark: XCTestCase {
    static let environment = ProcessInfo.processInfo.environment
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func integer(_ name: String, _ fallback: Int) -> Int {
        environment[name].flatMap { Int($0) } ?? fallback
    }

    func testEmbeddingThroughput() throws {
        guard Self.environment["KB_BENCH"] == "1" else { throw XCTSkip("benchmark: set KB_BENCH=1 (and build with -c release)") }
        let threads = Self.integer("KB_BENCH_THREADS", 1)
        let runs = Self.integer("KB_BENCH_RUNS", 3)
        var options = MiniLMEmbedder.Options(threads: threads)
        options.batchTokens = Self.integer("KB_BENCH_BATCH_TOKENS", options.batchTokens)
        let texts = try loadTexts(limit: Self.integer("KB_BENCH_DOCS", 2000))
        let model = WordPieceTokenizerTests.modelsDirectory.appendingPathComponent("all-minilm-l6-v2")
        let embedder = try MiniLMEmbedder(directory: model, options: options)

        let tokenizer = try WordPieceTokenizer(vocabularyFile: model.appendingPathComponent("vocab.txt"))
        let lengths = texts.map { tokenizer.encode($0, maxLength: embedder.maxTokens).count }
        let tokens = lengths.reduce(0, +)
        // Matrix-product FLOPs: 2 per weight per token, plus Q·Kᵀ and P·V (4·L²·hidden per layer).
        let layers = 6.0, hidden = Double(embedder.dimensions), inner = 4 * hidden
        let linearFLOPs = Double(tokens) * layers * 2 * (4 * hidden * hidden + 2 * hidden * inner)
        let attentionFLOPs = lengths.reduce(0.0) { $0 + layers * 4 * Double($1 * $1) * hidden }

        let sgemm = measureSGEMM()
        _ = try embedder.embed(Array(texts.prefix(64)), kind: .passage)  // warm-up
        var seconds: [Double] = []
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            let vectors = try embedder.embed(texts, kind: .passage)
            seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            XCTAssertEqual(vectors.count, texts.count)
        }
        let median = seconds.sorted()[seconds.count / 2]
        let achieved = (linearFLOPs + attentionFLOPs) / median / 1e9
        let result: [String: Any] = [
            "engine": "kb", "threads": threads, "blas_threads": Int(openblas_get_num_threads()),
            "blas_core": String(cString: openblas_get_corename()), "batch_tokens": options.batchTokens,
            "docs": texts.count, "tokens": tokens, "seconds": seconds.map { ($0 * 1e4).rounded() / 1e4 },
            "tokens_per_second": (Double(tokens) / median).rounded(),
            "docs_per_second": (Double(texts.count) / median * 100).rounded() / 100,
            "model_gflop": ((linearFLOPs + attentionFLOPs) / 1e7).rounded() / 100,
            "achieved_gflops": (achieved * 10).rounded() / 10,
            "sgemm_gflops": (sgemm * 10).rounded() / 10,
            "roofline_fraction": (achieved / sgemm * 1000).rounded() / 1000,
        ]
        let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        print("KB_BENCH_JSON " + String(decoding: json, as: UTF8.self))
    }

    /// `text` of the first `limit` lines of the benchmark corpus.
    func loadTexts(limit: Int) throws -> [String] {
        let path = Self.environment["KB_BENCH_TEXTS"]
            ?? Self.repositoryRoot.appendingPathComponent("corpora/out/debian-eval/corpus.jsonl").path
        struct Line: Decodable { let text: String }
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").prefix(limit)
        return try lines.map { try JSONDecoder().decode(Line.self, from: Data($0.utf8)).text }
    }

    /// Best of 10 GFLOP/s of C[8192 × 1536] = A[8192 × 384]·Bᵀ (B [1536 × 384], the FFN's first
    /// product over a large batch), with as many threads as the encoder uses: one sgemm per
    /// worker thread at once, or OpenBLAS's own threads (`OPENBLAS_NUM_THREADS`) for one worker.
    func measureSGEMM() -> Double {
        let m = 8192, k = 384, n = 1536
        let threads = Self.integer("KB_BENCH_THREADS", 1)
        let a = [Float](repeating: 0.01, count: m * k), b = [Float](repeating: 0.02, count: n * k)  // [m, k], [n, k]
        let outputs = (0..<threads).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: m * n) }  // [m, n] each
        defer { outputs.forEach { $0.deallocate() } }
        let pointers = Pointers(outputs)
        func measure() -> [Double] {
            (0..<10).map { _ in
                let start = DispatchTime.now().uptimeNanoseconds
                DispatchQueue.concurrentPerform(iterations: threads) { worker in
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(k),
                                b, Int32(k), 0, pointers.values[worker], Int32(n))
                }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                return Double(threads) * 2 * Double(m * n * k) / seconds / 1e9
            }
        }
        // As the embedder does: several workers run single-threaded OpenBLAS.
        let rates = threads > 1 ? BLASThreads.singleThreaded(measure) : measure()
        return rates.max() ?? 0  // the best run: the rate the machine can reach, least disturbed by other load
    }
}

/// Output buffers handed to worker threads, one each.
private final class Pointers: @unchecked Sendable {
    let values: [UnsafeMutablePointer<Float>]
    init(_ values: [UnsafeMutablePointer<Float>]) { self.values = values }
}
