import COpenBLAS
import Dispatch
import Foundation

/// Exact nearest-neighbour search by inner product over all vectors held in one contiguous matrix.
///
/// Two scans over the same rows: ``Precision/float32`` scores every row with BLAS `sgemv` (memory
/// bound: 4 bytes per dimension); ``Precision/int8(rerank:)`` scores int8 copies of the rows (a
/// quarter of the bytes) and re-scores the best `k × rerank` candidates in float32, which recovers the
/// exact order for all but near-ties. Batches of queries use one `sgemm`. Rows are added, replaced
/// and removed in place (removal moves the last row into the hole), so the index never needs a full
/// reload; searches run concurrently with each other and exclusively with changes.
///
/// This is the default index because it is exact and, for up to a few million chunks, fast enough.
/// An approximate index (IVF, HNSW) for larger collections can implement the same operations.
public final class FlatVectorIndex: @unchecked Sendable {
    /// How rows are scored.
    public enum Precision: Sendable, Equatable {
        /// Exact float32 scores.
        case float32
        /// int8 scan, then float32 re-scoring of `rerank × k` candidates.
        case int8(rerank: Int)
    }

    /// Scan workers by default: one per active core.
    public static let defaultThreads = max(1, ProcessInfo.processInfo.activeProcessorCount)

    public let dimensions: Int
    private var vectors: [Float] = []        // [count, dimensions] row-major, float32
    private var codes: [Int8] = []           // [count, dimensions] row-major, int8 = round(vector / scale)
    private var scales: [Float] = []         // [count] per-row dequantization scale
    private var ids: [Int64] = []            // [count] external id of each row
    private var rowOfID: [Int64: Int] = [:]
    private let lock = ReadWriteLock()

    /// - Parameter dimensions: length of every vector.
    public init(dimensions: Int) {
        precondition(dimensions > 0, "dimensions must be positive")
        self.dimensions = dimensions
    }

    /// Number of vectors held.
    public var count: Int { lock.read { ids.count } }

    /// Bytes held by the float32 and int8 matrices and the per-row arrays.
    public var memoryBytes: Int {
        lock.read { vectors.count * 4 + codes.count + scales.count * 4 + ids.count * 8 + rowOfID.count * 24 }
    }

    /// Whether `id` is held.
    public func contains(_ id: Int64) -> Bool { lock.read { rowOfID[id] != nil } }

    // MARK: - Changes

    /// Adds vectors, replacing any already held under the same id.
    /// - Parameters:
    ///   - ids: one id per vector.
    ///   - vectors: `ids.count × dimensions` floats, row-major.
    public func upsert(ids newIDs: [Int64], vectors newVectors: UnsafeBufferPointer<Float>) {
        precondition(newVectors.count == newIDs.count * dimensions, "expected \(newIDs.count) x \(dimensions) floats")
        guard let base = newVectors.baseAddress else { return }
        let d = dimensions
        lock.write {
            vectors.reserveCapacity(vectors.count + newIDs.count * d)
            codes.reserveCapacity(codes.count + newIDs.count * d)
            var code = [Int8](repeating: 0, count: d)
            for (n, id) in newIDs.enumerated() {
                let source = base + n * d
                let scale = code.withUnsafeMutableBufferPointer { VectorKernels.quantize(source, d, into: $0.baseAddress!) }
                if let row = rowOfID[id] {
                    for i in 0..<d {
                        vectors[row * d + i] = source[i]
                        codes[row * d + i] = code[i]
                    }
                    scales[row] = scale
                } else {
                    rowOfID[id] = ids.count
                    ids.append(id)
                    vectors.append(contentsOf: UnsafeBufferPointer(start: source, count: d))
                    codes.append(contentsOf: code)
                    scales.append(scale)
                }
            }
        }
    }

    /// Adds or replaces one vector.
    public func upsert(id: Int64, vector: [Float]) {
        vector.withUnsafeBufferPointer { upsert(ids: [id], vectors: $0) }
    }

    /// Removes the vectors with these ids (unknown ids are ignored).
    public func remove(ids removed: some Sequence<Int64>) {
        let d = dimensions
        lock.write {
            for id in removed {
                guard let row = rowOfID.removeValue(forKey: id) else { continue }
                let last = ids.count - 1
                if row != last {
                    let moved = ids[last]
                    ids[row] = moved
                    rowOfID[moved] = row
                    scales[row] = scales[last]
                    for i in 0..<d {
                        vectors[row * d + i] = vectors[last * d + i]
                        codes[row * d + i] = codes[last * d + i]
                    }
                }
                ids.removeLast()
                scales.removeLast()
                vectors.removeLast(d)
                codes.removeLast(d)
            }
        }
    }

    // MARK: - Search

    /// The `k` rows with the highest inner product with `query`, best first.
    /// - Parameters:
    ///   - query: `dimensions` floats.
    ///   - threads: parallel workers for the scan.
    /// - Complexity: O(count × dimensions).
    ///   - allowed: if given, only ids for which it returns true are results (filters are exact:
    ///     every row is scored, so a selective filter still finds its k best rows).
    public func search(_ query: [Float], k: Int, precision: Precision = .float32,
                       threads: Int = FlatVectorIndex.defaultThreads,
                       allowed: (@Sendable (Int64) -> Bool)? = nil) -> [Neighbor] {
        precondition(query.count == dimensions, "query has \(query.count) dimensions, index \(dimensions)")
        guard k > 0 else { return [] }
        return lock.read {
            guard !ids.isEmpty else { return [] }
            switch precision {
            case .float32: return searchFloat(query, k: k, threads: threads, allowed: allowed)
            case .int8(let rerank):
                return searchInt8(query, k: k, candidates: max(k, k * rerank), threads: threads, allowed: allowed)
            }
        }
    }

    /// Exact float32 top-k for several queries with one matrix product.
    public func search(batch queries: [[Float]], k: Int) -> [[Neighbor]] {
        guard k > 0, !queries.isEmpty else { return queries.map { _ in [] } }
        let d = dimensions
        return lock.read {
            let n = ids.count
            guard n > 0 else { return queries.map { _ in [] } }
            var flat = [Float]()                                 // [queries, dimensions]
            flat.reserveCapacity(queries.count * d)
            for q in queries {
                precondition(q.count == d, "query has \(q.count) dimensions, index \(d)")
                flat.append(contentsOf: q)
            }
            var scores = [Float](repeating: 0, count: queries.count * n)   // [queries, rows]
            vectors.withUnsafeBufferPointer { matrix in
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(queries.count), Int32(n), Int32(d),
                            1, flat, Int32(d), matrix.baseAddress, Int32(d), 0, &scores, Int32(n))
            }
            return (0..<queries.count).map { q in
                var top = TopK(k)
                for row in 0..<n { top.offer(ids[row], scores[q * n + row]) }
                return top.sorted()
            }
        }
    }

    /// Scores every row with the SIMD dot kernel, rows split across `threads` workers, each keeping
    /// its own top k; no score buffer. Memory bound: every core streams its share of the matrix
    /// (OpenBLAS sgemv reached about half the streaming bandwidth here, bench/vector-search.sh).
    private func searchFloat(_ query: [Float], k: Int, threads: Int, allowed: (@Sendable (Int64) -> Bool)?) -> [Neighbor] {
        let n = ids.count, d = dimensions
        let workers = max(1, min(threads, n / 4096 + 1))
        let partial = PartialResults(workers)
        vectors.withUnsafeBufferPointer { matrix in
            query.withUnsafeBufferPointer { q in
                ids.withUnsafeBufferPointer { rowIDs in
                    let matrixBase = UnsafeSendable(matrix.baseAddress!), queryBase = UnsafeSendable(q.baseAddress!)
                    let idsBase = UnsafeSendable(rowIDs.baseAddress!)
                    DispatchQueue.concurrentPerform(iterations: workers) { worker in
                        let start = n * worker / workers, end = n * (worker + 1) / workers
                        var top = TopK(k)
                        for row in start..<end {
                            let id = idsBase.pointer[row]
                            if let allowed, !allowed(id) { continue }
                            let score = VectorKernels.dot(matrixBase.pointer + row * d, queryBase.pointer, d)
                            if score > top.threshold { top.offer(id, score) }
                        }
                        partial.set(worker, top.heap)
                    }
                }
            }
        }
        var top = TopK(k)
        for candidate in partial.all { top.offer(candidate.id, candidate.score) }
        return top.sorted()
    }

    private func searchInt8(_ query: [Float], k: Int, candidates: Int, threads: Int,
                            allowed: (@Sendable (Int64) -> Bool)?) -> [Neighbor] {
        let n = ids.count, d = dimensions
        var queryCode = [Int8](repeating: 0, count: d)
        // The query's own scale multiplies every row's score alike, so it cannot change the order.
        query.withUnsafeBufferPointer { q in
            queryCode.withUnsafeMutableBufferPointer { _ = VectorKernels.quantize(q.baseAddress!, d, into: $0.baseAddress!) }
        }
        let workers = max(1, min(threads, n / 4096 + 1))
        let partial = PartialResults(workers)
        codes.withUnsafeBufferPointer { codes in
            scales.withUnsafeBufferPointer { scales in
                queryCode.withUnsafeBufferPointer { q in
                    ids.withUnsafeBufferPointer { rowIDs in
                        let codesBase = UnsafeSendable(codes.baseAddress!), scalesBase = UnsafeSendable(scales.baseAddress!)
                        let queryBase = UnsafeSendable(q.baseAddress!), idsBase = UnsafeSendable(rowIDs.baseAddress!)
                        DispatchQueue.concurrentPerform(iterations: workers) { worker in
                            let start = n * worker / workers, end = n * (worker + 1) / workers
                            var top = TopK(candidates)
                            for row in start..<end {
                                if let allowed, !allowed(idsBase.pointer[row]) { continue }
                                let dot = VectorKernels.dotInt8(codesBase.pointer + row * d, queryBase.pointer, d)
                                top.offer(Int64(row), Float(dot) * scalesBase.pointer[row])
                            }
                            partial.set(worker, top.heap)
                        }
                    }
                }
            }
        }
        // Re-score the candidates exactly (rows travel as ids here), then map rows to external ids.
        var top = TopK(k)
        vectors.withUnsafeBufferPointer { matrix in
            query.withUnsafeBufferPointer { q in
                for candidate in partial.all {
                    let row = Int(candidate.id)
                    top.offer(ids[row], VectorKernels.dot(matrix.baseAddress! + row * d, q.baseAddress!, d))
                }
            }
        }
        return top.sorted()
    }
}

/// A pointer handed to worker threads that only read through it.
struct UnsafeSendable<Pointee>: @unchecked Sendable {
    let pointer: UnsafePointer<Pointee>
    init(_ pointer: UnsafePointer<Pointee>) { self.pointer = pointer }
}

/// Per-worker candidate lists, each written by one worker.
private final class PartialResults: @unchecked Sendable {
    private var slots: [[Neighbor]]
    private let lock = ReadWriteLock()

    init(_ count: Int) { slots = Array(repeating: [], count: count) }

    func set(_ worker: Int, _ values: [Neighbor]) { lock.write { slots[worker] = values } }

    var all: [Neighbor] { lock.read { slots.flatMap { $0 } } }
}
