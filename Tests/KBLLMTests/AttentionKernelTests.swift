import CKBKernels
import Foundation
import XCTest
@testable import KBLLM

/// `kb_attention` (CKBKernels): the scalar reference against attention written out here in Swift,
/// and the AVX2 kernel against the scalar reference; the F16 conversions of the KV cache.
final class AttentionKernelTests: XCTestCase {
    /// A block of attention inputs: `rows × heads` query vectors over `length` key/value positions.
    struct Case {
        let rows: Int, heads: Int, firstLength: Int, headDim: Int
        var length: Int { firstLength + rows - 1 }
        var queries: [Float] = [], keys: [Float] = [], values: [Float] = []

        init(rows: Int, heads: Int, firstLength: Int, headDim: Int, rng: inout SeededGenerator) {
            self.rows = rows
            self.heads = heads
            self.firstLength = firstLength
            self.headDim = headDim
            // Queries a little larger than keys, so the softmax is neither flat nor one-hot.
            queries = (0..<rows * heads * headDim).map { _ in Float.random(in: -3...3, using: &rng) }
            keys = (0..<(firstLength + rows - 1) * headDim).map { _ in Float.random(in: -1...1, using: &rng) }
            values = (0..<(firstLength + rows - 1) * headDim).map { _ in Float.random(in: -1...1, using: &rng) }
        }

        var scale: Float { 1 / Float(headDim).squareRoot() }

        /// The kernel's output (`rows × heads × headDim`), with the cache in `type` (F16 or F32) in
        /// blocks of `blockTokens` positions (nil: one block), laid out in memory in reverse order.
        func run(type: Int32, kernels: KernelSet, singleToken: Int32 = 0, blockTokens: Int? = nil) -> [Float] {
            var out = [Float](repeating: .nan, count: rows * heads * headDim)
            let scratchCount = Int(kb_attention_scratch_floats(Int32(rows), Int32(heads), Int64(firstLength), Int32(headDim), singleToken))
            var scratch = [Float](repeating: .nan, count: scratchCount)
            let positions = firstLength + rows - 1, size = blockTokens ?? positions
            let stored: (k: [UInt8], v: [UInt8]) = (Self.reversedBlocks(Self.bytes(keys, type: type), blockBytes: size * headDim * (type == Int32(KB_TYPE_F16) ? 2 : 4)),
                                                    Self.reversedBlocks(Self.bytes(values, type: type), blockBytes: size * headDim * (type == Int32(KB_TYPE_F16) ? 2 : 4)))
            let blockCount = (positions + size - 1) / size
            queries.withUnsafeBufferPointer { q in
                out.withUnsafeMutableBufferPointer { o in
                    scratch.withUnsafeMutableBufferPointer { s in
                        stored.k.withUnsafeBytes { k in
                            stored.v.withUnsafeBytes { v in
                                // Block i is the i-th from the end of the buffer.
                                let blockBytes = stored.k.count / blockCount
                                let kBlocks: [UnsafeRawPointer?] = (0..<blockCount).map { k.baseAddress! + (blockCount - 1 - $0) * blockBytes }
                                let vBlocks: [UnsafeRawPointer?] = (0..<blockCount).map { v.baseAddress! + (blockCount - 1 - $0) * blockBytes }
                                var args = kb_attention_args(
                                    q: q.baseAddress!, q_row_stride: Int64(heads * headDim), out: o.baseAddress!,
                                    out_row_stride: Int64(heads * headDim), rows: Int32(rows), heads: Int32(heads),
                                    first_length: Int64(firstLength), k_blocks: kBlocks, v_blocks: vBlocks,
                                    block_tokens: Int64(size), kv_type: type,
                                    head_dim: Int32(headDim), scale: scale, single_token: singleToken, scratch: s.baseAddress!)
                                kb_attention(&args, kernels.isa)
                            }
                        }
                    }
                }
            }
            return out
        }

        /// `bytes` cut into blocks of `blockBytes` (the last padded with 0xFF) stored last block first.
        static func reversedBlocks(_ bytes: [UInt8], blockBytes: Int) -> [UInt8] {
            var blocks: [[UInt8]] = stride(from: 0, to: bytes.count, by: blockBytes).map { Array(bytes[$0..<min(bytes.count, $0 + blockBytes)]) }
            blocks[blocks.count - 1] += [UInt8](repeating: 0xFF, count: blockBytes - blocks[blocks.count - 1].count)
            return Array(blocks.reversed().joined())
        }

        static func bytes(_ values: [Float], type: Int32) -> [UInt8] {
            if type == Int32(KB_TYPE_F16) {
                return values.flatMap { value -> [UInt8] in
                    let bits = Float16(value).bitPattern
                    return [UInt8(bits & 0xFF), UInt8(bits >> 8)]
                }
            }
            return values.flatMap { value -> [UInt8] in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }
        }

        /// The definition, in Swift: per query vector s = scale·q·k (q rounded to F16 with an F16
        /// cache), p = softmax(s) (sum in double; p rounded to F16 with an F16 cache), out = Σ p·v.
        func reference(f16: Bool) -> [Float] {
            let round: (Float) -> Float = { f16 ? Float(Float16($0)) : $0 }
            let k = keys.map(round), v = values.map(round)
            var out: [Float] = []
            for row in 0..<rows {
                for head in 0..<heads {
                    let base = (row * heads + head) * headDim
                    let q = queries[base..<base + headDim].map(round)
                    let length = firstLength + row
                    var scores = (0..<length).map { t -> Float in
                        var s: Float = 0
                        for d in 0..<headDim { s += q[d] * k[t * headDim + d] }
                        return s * scale
                    }
                    let maximum = scores.max()!
                    var sum = 0.0
                    for t in 0..<length {
                        scores[t] = exp(scores[t] - maximum)
                        sum += Double(scores[t])
                    }
                    let inverse = Float(1 / sum)
                    let p = scores.map { round($0 * inverse) }
                    for d in 0..<headDim {
                        var acc: Float = 0
                        for t in 0..<length { acc += p[t] * v[t * headDim + d] }
                        out.append(acc)
                    }
                }
            }
            return out
        }
    }

    static let f16 = Int32(KB_TYPE_F16), f32 = Int32(KB_TYPE_F32)

    /// Shapes: single rows (decoding), blocks crossing the 64-position tiles, lengths that are
    /// not multiples of 8, grouped heads, and a head size without the 32-wide SIMD step.
    static let shapes: [(rows: Int, heads: Int, firstLength: Int, headDim: Int)] = [
        (1, 1, 1, 64), (1, 7, 130, 64), (5, 3, 61, 64), (10, 3, 200, 64), (4, 7, 1, 64), (3, 2, 70, 40), (2, 1, 9, 12),
    ]

    func testScalarReferenceIsSoftmaxAttention() {
        var rng = SeededGenerator(seed: 11)
        for shape in Self.shapes {
            let c = Case(rows: shape.rows, heads: shape.heads, firstLength: shape.firstLength, headDim: shape.headDim, rng: &rng)
            for (type, f16) in [(Self.f32, false), (Self.f16, true)] {
                let expected = c.reference(f16: f16)
                for singleToken: Int32 in [0, 1] {
                    let got = c.run(type: type, kernels: .portable, singleToken: singleToken)
                    for i in got.indices {
                        XCTAssertEqual(got[i], expected[i], accuracy: 1e-5, "\(shape) f16 \(f16) single \(singleToken): output \(i)")
                    }
                }
            }
        }
    }

    /// The SIMD kernel sums in the scalar reference's order (llama.cpp's), so the two agree to the bit.
    func testSIMDKernelMatchesScalarReferenceExactly() throws {
        try XCTSkipUnless(KernelSet.hasSIMD, "no AVX2 on this CPU: only the scalar kernel runs")
        var rng = SeededGenerator(seed: 12)
        for shape in Self.shapes {
            let c = Case(rows: shape.rows, heads: shape.heads, firstLength: shape.firstLength, headDim: shape.headDim, rng: &rng)
            for type in [Self.f32, Self.f16] {
                for singleToken: Int32 in [0, 1] {
                    let fast = c.run(type: type, kernels: .automatic, singleToken: singleToken)
                    let portable = c.run(type: type, kernels: .portable, singleToken: singleToken)
                    XCTAssertFalse(fast.contains { $0.isNaN }, "\(shape): an output was not written")
                    let differing = fast.indices.filter { fast[$0].bitPattern != portable[$0].bitPattern }
                    XCTAssertEqual(differing.count, 0, "\(shape) type \(type) single \(singleToken): outputs \(differing.prefix(5)) differ, e.g. \(differing.first.map { (fast[$0], portable[$0]) } as Any)")
                }
            }
        }
    }

    /// Keys and values in blocks (a paged KV cache, blocks anywhere in memory) give the bits of
    /// one contiguous block, with both kernels, for block sizes that split the 64-position tiles.
    func testPagedBlocksGiveTheContiguousResult() {
        var rng = SeededGenerator(seed: 15)
        for shape in Self.shapes {
            let c = Case(rows: shape.rows, heads: shape.heads, firstLength: shape.firstLength, headDim: shape.headDim, rng: &rng)
            for type in [Self.f32, Self.f16] {
                for singleToken: Int32 in [0, 1] {
                    for kernels in [KernelSet.portable, .automatic] {
                        let whole = c.run(type: type, kernels: kernels, singleToken: singleToken)
                        for blockTokens in [1, 5, 32] {
                            let paged = c.run(type: type, kernels: kernels, singleToken: singleToken, blockTokens: blockTokens)
                            XCTAssertEqual(paged.map(\.bitPattern), whole.map(\.bitPattern),
                                           "\(shape) type \(type) single \(singleToken) \(kernels) blocks of \(blockTokens)")
                        }
                    }
                }
            }
        }
    }

    /// The two summation orders are different functions: a kernel that ignored `single_token`
    /// would pass the exact comparison above in one of them only.
    func testSingleTokenOrderDiffersFromBatchOrder() {
        var rng = SeededGenerator(seed: 15)
        let c = Case(rows: 1, heads: 4, firstLength: 300, headDim: 64, rng: &rng)
        let batch = c.run(type: Self.f16, kernels: .portable, singleToken: 0)
        let single = c.run(type: Self.f16, kernels: .portable, singleToken: 1)
        XCTAssertGreaterThan(batch.indices.filter { batch[$0] != single[$0] }.count, 0)
        for i in batch.indices { XCTAssertEqual(batch[i], single[i], accuracy: 1e-5) }
    }

    /// e^x as ggml computes it: within 2 ulp of the true value, exactly 0 far below and for −∞.
    func testExpIsWithinTwoUlpAndUnderflowsToZero() {
        var rng = SeededGenerator(seed: 16)
        for _ in 0..<20_000 {
            let x = Float.random(in: -87...0, using: &rng)
            let got = kb_exp(x), exact = Float(Foundation.exp(Double(x)))
            XCTAssertLessThanOrEqual(abs(got - exact), 2 * exact.ulp, "e^\(x)")
        }
        XCTAssertEqual(kb_exp(0), 1)
        XCTAssertEqual(kb_exp(-200), 0)
        XCTAssertEqual(kb_exp(-.infinity), 0)
    }

    func testHalfConversionsRoundToNearestEven() {
        var rng = SeededGenerator(seed: 13)
        // Ties (1 + 2^-11 lies halfway between two halves), subnormals, overflow, signs, and random values.
        var values: [Float] = [0, -0, 1, 1 + 0x1p-11, 1 + 3 * 0x1p-11, 65504, 65520, 70000, -70000, 0x1p-24, 0x1p-25,
                               3 * 0x1p-26, 0x1p-14, 0x1.ffcp-15, 6e-8, .infinity, -.infinity]
        values += (0..<1000).map { _ in Float.random(in: -10...10, using: &rng) * pow(2, Float.random(in: -20...8, using: &rng)) }
        for kernels in KernelSet.allCases {
            var halves = [UInt16](repeating: 0, count: values.count)
            kb_f32_to_f16_row(values, &halves, Int64(values.count), kernels.isa)
            var back = [Float](repeating: .nan, count: values.count)
            kb_f16_to_f32_row(halves, &back, Int64(values.count), kernels.isa)
            for (i, value) in values.enumerated() {
                XCTAssertEqual(halves[i], Float16(value).bitPattern, "\(kernels) \(value)")
                XCTAssertEqual(back[i], Float(Float16(value)), "\(kernels) \(value)")
            }
        }
    }

    func testF16CacheStoresHalvesAndF32CacheFloats() {
        let hyper = KVBlockPoolTests.hyper
        var rng = SeededGenerator(seed: 14)
        let k = (0..<3 * hyper.kvDimension).map { _ in Float.random(in: -2...2, using: &rng) }
        let v = k.map { $0 * 3 }
        for precision in [KVCachePrecision.f16, .f32] {
            let pool = KVBlockPool(hyper: hyper, blockTokens: 4, budgetBytes: 1 << 20, precision: precision)
            let cache = KVSequence(pool: pool, capacity: 16)
            XCTAssertTrue(cache.reserve(adding: 8))
            cache.store(layer: 1, start: 5, rows: 3, k: k, v: v)
            XCTAssertEqual(pool.blockByteCount, 2 * hyper.layerCount * hyper.kvHeadCount * 4 * hyper.headDimension * precision.elementByteCount)
            for row in 0..<3 {
                for head in 0..<hyper.kvHeadCount {
                    let base = row * hyper.kvDimension + head * hyper.headDimension
                    let round: (Float) -> Float = { precision == .f16 ? Float(Float16($0)) : $0 }
                    XCTAssertEqual(cache.keyVector(layer: 1, head: head, position: 5 + row), k[base..<base + hyper.headDimension].map(round))
                    XCTAssertEqual(cache.valueVector(layer: 1, head: head, position: 5 + row), v[base..<base + hyper.headDimension].map(round))
                }
            }
        }
    }
}
