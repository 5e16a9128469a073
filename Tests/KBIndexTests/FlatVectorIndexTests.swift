import XCTest
@testable import KBIndex

/// Deterministic pseudo-random unit vectors with cluster structure, like sentence embeddings.
struct VectorSource {
    private var state: UInt64

    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

    mutating func uniform() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(state >> 40) / Float(1 << 24) * 2 - 1
    }

    mutating func unitVectors(count: Int, dimensions: Int, clusters: Int = 50) -> [Float] {
        let centers = (0..<clusters * dimensions).map { _ in uniform() }
        var out = [Float]()
        out.reserveCapacity(count * dimensions)
        for n in 0..<count {
            let c = n % clusters
            var v = (0..<dimensions).map { centers[c * dimensions + $0] + 0.6 * uniform() }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            v = v.map { $0 / norm }
            out.append(contentsOf: v)
        }
        return out
    }
}

final class FlatVectorIndexTests: XCTestCase {
    let d = 384

    private func bruteForce(_ vectors: [Float], ids: [Int64], _ query: [Float], k: Int) -> [Neighbor] {
        var all: [Neighbor] = []
        for (row, id) in ids.enumerated() {
            let score = vectors.withUnsafeBufferPointer { m in
                query.withUnsafeBufferPointer { VectorKernels.dotReference(m.baseAddress! + row * d, $0.baseAddress!, d) }
            }
            all.append(Neighbor(id: id, score: score))
        }
        return Array(all.sorted { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }.prefix(k))
    }

    private func makeIndex(count: Int, seed: UInt64 = 1) -> (FlatVectorIndex, [Float], [Int64]) {
        var source = VectorSource(seed: seed)
        let vectors = source.unitVectors(count: count, dimensions: d)
        let ids = (0..<count).map { Int64($0 * 3 + 7) }
        let index = FlatVectorIndex(dimensions: d)
        vectors.withUnsafeBufferPointer { index.upsert(ids: ids, vectors: $0) }
        return (index, vectors, ids)
    }

    func testFloat32SearchIsExact() {
        let (index, vectors, ids) = makeIndex(count: 3000)
        var source = VectorSource(seed: 99)
        for _ in 0..<20 {
            let query = source.unitVectors(count: 1, dimensions: d, clusters: 1)
            let expected = bruteForce(vectors, ids: ids, query, k: 10)
            let got = index.search(query, k: 10)
            XCTAssertEqual(got.map(\.id), expected.map(\.id))
            for (a, b) in zip(got, expected) { XCTAssertEqual(a.score, b.score, accuracy: 1e-4) }
        }
    }

    func testInt8ScanWithRerankingRecallsTheExactTop10() {
        let (index, _, _) = makeIndex(count: 10_000)
        var source = VectorSource(seed: 5)
        var found = 0, total = 0
        for _ in 0..<50 {
            let query = source.unitVectors(count: 1, dimensions: d, clusters: 1)
            let exact = Set(index.search(query, k: 10).map(\.id))
            let approximate = index.search(query, k: 10, precision: .int8(rerank: 4))
            found += approximate.filter { exact.contains($0.id) }.count
            total += 10
        }
        XCTAssertGreaterThanOrEqual(Double(found) / Double(total), 0.99)
    }

    func testBatchSearchEqualsSingleQueries() {
        let (index, _, _) = makeIndex(count: 2000)
        var source = VectorSource(seed: 11)
        let queries = (0..<7).map { _ in source.unitVectors(count: 1, dimensions: d, clusters: 1) }
        let batch = index.search(batch: queries, k: 5)
        for (query, result) in zip(queries, batch) {
            XCTAssertEqual(result.map(\.id), index.search(query, k: 5).map(\.id))
        }
    }

    func testUpsertReplacesAndRemoveKeepsTheRestSearchable() {
        let (index, vectors, ids) = makeIndex(count: 500)
        XCTAssertEqual(index.count, 500)
        // Replace one vector with the negation of another's: it must now be that query's worst match.
        let target = Array(vectors[(10 * d)..<(11 * d)])
        index.upsert(id: ids[20], vector: target.map { -$0 })
        XCTAssertEqual(index.count, 500)
        XCTAssertEqual(index.search(target, k: 1).first?.id, ids[10])
        XCTAssertEqual(index.search(target.map { -$0 }, k: 1).first?.id, ids[20])
        // Remove a third of the rows, including the first and the last.
        let removed = Set(ids.enumerated().filter { $0.offset % 3 == 0 || $0.offset == 499 }.map(\.element))
        index.remove(ids: removed)
        XCTAssertEqual(index.count, 500 - removed.count)
        for (row, id) in ids.enumerated() where !removed.contains(id) && id != ids[20] {
            let query = Array(vectors[(row * d)..<((row + 1) * d)])
            XCTAssertEqual(index.search(query, k: 1).first?.id, id, "row \(row) must still find itself")
            XCTAssertEqual(index.search(query, k: 1, precision: .int8(rerank: 4)).first?.id, id)
        }
        for id in removed { XCTAssertFalse(index.contains(id)) }
    }

    func testEmptyIndexAndZeroK() {
        let index = FlatVectorIndex(dimensions: 4)
        XCTAssertEqual(index.search([1, 0, 0, 0], k: 3), [])
        index.upsert(id: 1, vector: [1, 0, 0, 0])
        XCTAssertEqual(index.search([1, 0, 0, 0], k: 0), [])
        XCTAssertEqual(index.search([1, 0, 0, 0], k: 5).map(\.id), [1])
    }
}

final class VectorKernelTests: XCTestCase {
    func testSIMDDotMatchesTheScalarReference() {
        var source = VectorSource(seed: 3)
        for count in [1, 7, 16, 31, 32, 33, 384, 1000] {
            let a = (0..<count).map { _ in source.uniform() }, b = (0..<count).map { _ in source.uniform() }
            let fast = VectorKernels.dot(a, b, count), reference = VectorKernels.dotReference(a, b, count)
            XCTAssertEqual(fast, reference, accuracy: 1e-4 * Float(count).squareRoot(), "count \(count)")
        }
    }

    func testInt8DotMatchesTheScalarReferenceExactly() {
        var source = VectorSource(seed: 4)
        for count in [1, 15, 64, 384, 1537] {
            let a = (0..<count).map { _ in Int8(clamping: Int(source.uniform() * 127)) }
            let b = (0..<count).map { _ in Int8(clamping: Int(source.uniform() * 127)) }
            XCTAssertEqual(VectorKernels.dotInt8(a, b, count), VectorKernels.dotInt8Reference(a, b, count))
        }
        let extremes = [Int8](repeating: -128, count: 384)
        XCTAssertEqual(VectorKernels.dotInt8(extremes, extremes, 384), 384 * 128 * 128)
    }

    func testQuantizationRoundTripsWithinHalfAStep() {
        var source = VectorSource(seed: 8)
        let x = (0..<384).map { _ in source.uniform() }
        var q = [Int8](repeating: 0, count: 384)
        let scale = q.withUnsafeMutableBufferPointer { VectorKernels.quantize(x, 384, into: $0.baseAddress!) }
        for i in 0..<384 { XCTAssertEqual(Float(q[i]) * scale, x[i], accuracy: scale / 2 + 1e-7) }
        var zero = [Int8](repeating: 1, count: 4)
        XCTAssertEqual(zero.withUnsafeMutableBufferPointer { VectorKernels.quantize([0, 0, 0, 0], 4, into: $0.baseAddress!) }, 0)
        XCTAssertEqual(zero, [0, 0, 0, 0])
    }

    func testTopKKeepsTheBestInOrder() {
        var source = VectorSource(seed: 12)
        let scores = (0..<10_000).map { _ in source.uniform() }
        var top = TopK(25)
        for (i, s) in scores.enumerated() { top.offer(Int64(i), s) }
        let expected = scores.enumerated().sorted { $0.element > $1.element }.prefix(25).map { Int64($0.offset) }
        XCTAssertEqual(top.sorted().map(\.id), expected)
    }
}
