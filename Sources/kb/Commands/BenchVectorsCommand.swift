import ArgumentParser
import Foundation
import KBIndex

/// `kb bench vectors`: exact vector search on a synthetic collection, against the memory-bandwidth bound.
struct BenchVectorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vectors",
        abstract: "Time vector search over N synthetic unit vectors against the memory-bandwidth bound.",
        discussion: """
            Generates a deterministic clustered collection (like sentence embeddings), measures how fast
            this machine streams the float32 matrix once (the bound for an exact scan), then times float32
            search (BLAS sgemv + top-k heap), int8 search with float32 re-ranking (with its recall@k
            against float32) and batched float32 search (sgemm). --write-vectors/--write-queries save the
            same data as raw little-endian float32 for other engines (bench/vector_anchor.py).
            """)

    @Option(name: .long, help: "Number of stored vectors.") var count = 300_000
    @Option(name: .long, help: "Dimensions.") var dimensions = 384
    @Option(name: .long, help: "Number of queries.") var queries = 200
    @Option(name: .long, help: "Results per query.") var k = 10
    @Option(name: .long, help: "Queries per batch for the sgemm path.") var batch = 16
    @Option(name: .long, help: ArgumentHelp("Write the stored vectors here (raw float32).", valueName: "file")) var writeVectors: String?
    @Option(name: .long, help: ArgumentHelp("Write the queries here (raw float32).", valueName: "file")) var writeQueries: String?

    struct Output: Encodable {
        var count: Int, dimensions: Int, queries: Int, k: Int
        var matrixMiB: Double
        var streamGBPerSecond: Double
        var boundMilliseconds: Double
        var float32: Latency
        var int8: Latency
        var int8RecallAtK: Double
        var batchedPerQueryMilliseconds: Double
        var indexMemoryMiB: Double
    }

    struct Latency: Encodable {
        var p50: Double, p99: Double
        var p50OverBound: Double
    }

    func run() throws {
        var generator = SyntheticVectors(seed: 42)
        let data = generator.clustered(count: count, dimensions: dimensions)
        let queryData = generator.clustered(count: queries, dimensions: dimensions, clusters: 50)
        if let path = writeVectors { try write(data, to: path) }
        if let path = writeQueries { try write(queryData, to: path) }
        let index = FlatVectorIndex(dimensions: dimensions)
        data.withUnsafeBufferPointer { index.upsert(ids: (0..<Int64(count)).map { $0 }, vectors: $0) }
        let queryVectors = (0..<queries).map { Array(queryData[($0 * dimensions)..<(($0 + 1) * dimensions)]) }

        let bytes = Double(count * dimensions * 4)
        // The bound: every core streaming its share of the matrix once (sgemv also uses every core).
        let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let stream = medianSeconds(7) { _ in
            data.withUnsafeBufferPointer { buffer in
                let base = UnsafeSendableBuffer(buffer)
                let total = buffer.count
                DispatchQueue.concurrentPerform(iterations: cores) { part in
                    let start = total * part / cores / 64 * 64
                    let end = part == cores - 1 ? total : total * (part + 1) / cores / 64 * 64
                    _ = streamSum(UnsafeBufferPointer(rebasing: base.buffer[start..<end]))
                }
            }
        }
        let boundMs = stream * 1000

        _ = index.search(queryVectors[0], k: k)   // warm-up
        var floatTimes: [Double] = [], int8Times: [Double] = []
        var found = 0
        for query in queryVectors {
            var exact: [Neighbor] = []
            floatTimes.append(time { exact = index.search(query, k: k) })
            var approximate: [Neighbor] = []
            int8Times.append(time { approximate = index.search(query, k: k, precision: .int8(rerank: 4)) })
            let truth = Set(exact.map(\.id))
            found += approximate.filter { truth.contains($0.id) }.count
        }
        var batchSeconds = 0.0
        var done = 0
        while done < queries {
            let slice = Array(queryVectors[done..<min(queries, done + batch)])
            batchSeconds += time { _ = index.search(batch: slice, k: k) }
            done += slice.count
        }
        func latency(_ samples: [Double]) -> Latency {
            let sorted = samples.sorted()
            let p50 = sorted[sorted.count / 2] * 1000, p99 = sorted[min(sorted.count - 1, sorted.count * 99 / 100)] * 1000
            return Latency(p50: p50, p99: p99, p50OverBound: p50 / boundMs)
        }
        try printJSON(Output(count: count, dimensions: dimensions, queries: queries, k: k, matrixMiB: bytes / 1_048_576,
                             streamGBPerSecond: bytes / stream / 1e9, boundMilliseconds: boundMs,
                             float32: latency(floatTimes), int8: latency(int8Times),
                             int8RecallAtK: Double(found) / Double(queries * k),
                             batchedPerQueryMilliseconds: batchSeconds * 1000 / Double(queries),
                             indexMemoryMiB: Double(index.memoryBytes) / 1_048_576))
    }

    private func write(_ values: [Float], to path: String) throws {
        try values.withUnsafeBufferPointer { Data(buffer: $0) }.write(to: URL(fileURLWithPath: path))
    }

    private func time(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    private func medianSeconds(_ runs: Int, _ body: (Int) -> Void) -> Double {
        (0..<runs).map { run in time { body(run) } }.sorted()[runs / 2]
    }
}

/// A read-only buffer handed to worker threads.
struct UnsafeSendableBuffer: @unchecked Sendable {
    let buffer: UnsafeBufferPointer<Float>
    init(_ buffer: UnsafeBufferPointer<Float>) { self.buffer = buffer }
}

/// Reads every float once with wide SIMD adds: the fastest possible pass over the values.
@inline(never)
func streamSum(_ buffer: UnsafeBufferPointer<Float>) -> Float {
    guard let start = buffer.baseAddress else { return 0 }
    let raw = UnsafeRawPointer(start)
    var a = SIMD16<Float>(), b = SIMD16<Float>(), c = SIMD16<Float>(), d = SIMD16<Float>()
    var i = 0
    while i + 64 <= buffer.count {
        a += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
        b += raw.loadUnaligned(fromByteOffset: (i + 16) * 4, as: SIMD16<Float>.self)
        c += raw.loadUnaligned(fromByteOffset: (i + 32) * 4, as: SIMD16<Float>.self)
        d += raw.loadUnaligned(fromByteOffset: (i + 48) * 4, as: SIMD16<Float>.self)
        i += 64
    }
    let s = a + b + c + d
    return (s.lowHalf + s.highHalf).sum()
}

/// Deterministic clustered unit vectors.
struct SyntheticVectors {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func uniform() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(state >> 40) / Float(1 << 24) * 2 - 1
    }

    mutating func clustered(count: Int, dimensions: Int, clusters: Int = 1000) -> [Float] {
        let centers = (0..<(clusters * dimensions)).map { _ in uniform() }
        var out = [Float](repeating: 0, count: count * dimensions)
        for n in 0..<count {
            let c = Int(truncatingIfNeeded: (state >> 33) % UInt64(clusters))
            var norm: Float = 0
            for i in 0..<dimensions {
                let v = centers[c * dimensions + i] + 0.8 * uniform()
                out[n * dimensions + i] = v
                norm += v * v
            }
            let inverse = 1 / norm.squareRoot()
            for i in 0..<dimensions { out[n * dimensions + i] *= inverse }
        }
        return out
    }
}
