import Foundation
import XCTest
@testable import KBLLM

/// Matrix-product speed on Qwen2.5-Coder-0.5B's real tensors, with the machine's memory copy
/// bandwidth measured in the same run as the anchor. Runs only with `KB_BENCH=1` (release build:
/// `swift build -c release --build-tests -Xswiftc -enable-testing -Xswiftc -target-cpu -Xswiftc native`,
/// then `KB_BENCH=1 swift test -c release --skip-build --filter MatMulBenchmarkTests`).
///
/// - Generation (batch 1): every `blk.*` weight matrix and `output.weight` once per "token" (the
///   bytes a decode step reads); GB/s = weight bytes read per second. It is memory-bound, so the
///   bound is the copy bandwidth.
/// - With `KB_BENCH_LLAMA_PYTHON` (a Python with llama-cpp-python), llama.cpp's decode speed in the
///   same run (`bench/llamacpp_decode.py`) as the same bytes per token × tokens/s. Its figure
///   includes attention and norms, so the ratio slightly favours kb.
/// - Prompt (batch 512): layer 0's seven matrices; GFLOP/s = 2 · 512 · rows · columns per second.
final class MatMulBenchmarkTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["KB_BENCH"] == "1", "benchmark: set KB_BENCH=1")
    }

    func testMatMulThroughputOnQwen2Tensors() throws {
        let file = try ModelFiles.open(GGUFFileTests.qwen2)
        let matrices = try file.tensors
            .filter { ($0.name.hasPrefix("blk.") || $0.name == "output.weight") && $0.shape.count == 2 && $0.shape[1] > 1 }
            .map { try WeightMatrix(try file.tensor($0), file: GGUFFileTests.qwen2) }
        let layer0 = matrices.filter { $0.tensor.name.hasPrefix("blk.0.") }
        let weightBytes = matrices.reduce(0) { $0 + $1.tensor.info.byteCount }
        let widest = matrices.map { max($0.inputCount, $0.outputCount) }.max()!
        var rng = SeededGenerator(seed: 9)
        let batch = 512
        let input = (0..<batch * widest).map { _ in Float.random(in: -1...1, using: &rng) }
        var output = [Float](repeating: 0, count: batch * widest)
        let repeats = Int(ProcessInfo.processInfo.environment["KB_BENCH_REPEATS"] ?? "") ?? 7
        print(String(format: "matmul benchmark: %d matrices, %.1f MB of weights (batch 1); layer 0 for batch %d; median of %d",
                     matrices.count, Double(weightBytes) / 1e6, batch, repeats))

        for threads in [1, 2] {
            let pool = ThreadPool(threads: threads)
            let copyRate = Self.copyBandwidth(pool: pool, repeats: repeats)
            let generation = input.withUnsafeBufferPointer { x in
                output.withUnsafeMutableBufferPointer { y in
                    Self.median(repeats) {
                        for matrix in matrices { matrix.multiply(x.baseAddress!, batch: 1, into: y.baseAddress!, pool: pool) }
                    }
                }
            }
            let rate = Double(weightBytes) / generation / 1e9
            let prompt = input.withUnsafeBufferPointer { x in
                output.withUnsafeMutableBufferPointer { y in
                    Self.median(max(1, repeats / 2)) {
                        for matrix in layer0 { matrix.multiply(x.baseAddress!, batch: batch, into: y.baseAddress!, pool: pool) }
                    }
                }
            }
            let flops = layer0.reduce(0.0) { $0 + 2 * Double(batch) * Double($1.inputCount) * Double($1.outputCount) }
            print(String(format: "threads %d: memcpy %.1f GB/s | batch 1: %.2f ms per pass, %.1f GB/s of weights = %.2fx memcpy | batch %d: %.1f GFLOP/s",
                         threads, copyRate, generation * 1e3, rate, rate / copyRate, batch, flops / prompt / 1e9))
            if let python = ProcessInfo.processInfo.environment["KB_BENCH_LLAMA_PYTHON"], !python.isEmpty {
                let (tokensPerSecond, promptTokensPerSecond) = try Self.llamaCppRates(
                    python: python, model: ModelFiles.path(GGUFFileTests.qwen2), threads: threads)
                let anchor = tokensPerSecond * Double(weightBytes) / 1e9
                print(String(format: "threads %d: llama.cpp decode %.2f tokens/s = %.1f GB/s of the same weights; kb matmuls alone %.2f passes/s = %.2fx llama.cpp",
                             threads, tokensPerSecond, anchor, 1 / generation, rate / anchor))
                // A prompt token costs 2 FLOPs per weight of the layers (logits only for the last).
                let layerWeights = matrices.filter { $0.tensor.name.hasPrefix("blk.") }
                    .reduce(0.0) { $0 + Double($1.inputCount) * Double($1.outputCount) }
                let promptAnchor = promptTokensPerSecond * 2 * layerWeights / 1e9
                print(String(format: "threads %d: llama.cpp prompt (512) %.1f tokens/s = %.1f GFLOP/s in the layers' products; kb batch %d = %.2fx llama.cpp",
                             threads, promptTokensPerSecond, promptAnchor, batch, flops / prompt / 1e9 / promptAnchor))
            }
            XCTAssertGreaterThan(rate, 0)
        }
    }

    /// llama.cpp's single-token decode rate and 512-token prompt rate (tokens/s) through
    /// `bench/llamacpp_decode.py`.
    static func llamaCppRates(python: String, model: String, threads: Int) throws -> (decode: Double, prompt: Double) {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("bench/llamacpp_decode.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, model, String(threads)]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        var values: [String: Double] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2, let value = Double(fields[1]) { values[String(fields[0])] = value }
        }
        guard process.terminationStatus == 0, let decode = values["tokens_per_second"], let prompt = values["prompt_tokens_per_second"] else {
            throw NSError(domain: "MatMulBenchmarkTests", code: 1, userInfo: [NSLocalizedDescriptionKey: "llama.cpp anchor failed: \(text)"])
        }
        return (decode, prompt)
    }

    /// Bytes copied per second (GB/s) by `memcpy` of 256 MB split over the pool, median of `repeats`.
    static func copyBandwidth(pool: ThreadPool, repeats: Int) -> Double {
        let size = 256 << 20
        let source = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        let target = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        defer { source.deallocate(); target.deallocate() }
        memset(source, 1, size)
        memset(target, 0, size)
        let pieces = 64, piece = size / pieces
        let seconds = median(repeats) {
            pool.parallelFor(pieces) { i in _ = memcpy(target + i * piece, source + i * piece, piece) }
        }
        return Double(size) / seconds / 1e9
    }

    /// The median wall time of `repeats` runs of `body` (after one warm-up run), in seconds.
    static func median(_ repeats: Int, _ body: () -> Void) -> Double {
        body()
        var times: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return times.sorted()[times.count / 2]
    }
}
