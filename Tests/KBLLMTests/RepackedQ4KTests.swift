import CKBKernels
import XCTest
@testable import KBLLM
import KBSupport

/// Holds the repacked Q4_K products (`kb_block_q4_kx8`) together: the scalar reference over the
/// repacked layout sums each row in the bits of the per-row kernels that are bit-exact with
/// llama.cpp, and every SIMD family gives the scalar reference's bits. A family the CPU lacks
/// reports its test as skipped, with the reason.
final class RepackedQ4KTests: XCTestCase {
    /// 40 rows (5 groups of 8) of 768 weights (3 super-blocks), 11 activation rows in mixed orders
    /// (runs of 1 to 4 rows of each order, so every specialization runs), plus a batch of 9 in one order.
    struct Case {
        let matrix: WeightMatrix
        /// The matrix's repacked rows (made here when `KB_KERNELS=generic` keeps the matrix from repacking them).
        let packed: RepackedQ4K
        let activations: QuantizedActivations
        let orders: [UInt8]
    }

    static func cases(extreme: Bool = false) throws -> [Case] {
        var rng = SeededGenerator(seed: extreme ? 8 : 7)
        let rows = 40, columns = 768
        var bytes = RandomWeights.bytes(.q4K, rows: rows, columns: columns, rng: &rng)
        if extreme {
            // Every quant 15 and every scale and minimum 63: the largest integer sums (no int16
            // accumulator may overflow, see Q4KRepackedX86.c).
            for block in 0..<rows * columns / 256 {
                let base = block * 144
                for i in 4..<16 { bytes[base + i] = 0xFF }
                for i in 16..<144 { bytes[base + i] = 0xFF }
            }
        }
        let matrix = try RandomWeights.matrix(.q4K, rows: rows, columns: columns, bytes: bytes)
        if kb_best_family() != KB_FAMILY_GENERIC {
            XCTAssertNotNil(matrix.repacked, "a Q4_K matrix of 40 rows is repacked on this CPU")
        }
        let packed = matrix.repacked ?? RepackedQ4K(matrix.tensor)
        var result: [Case] = []
        let pool = ThreadPool(threads: 1)
        let single = UInt8(KB_ROW_SINGLE), pairs = UInt8(KB_ROW_PAIRS), batched = UInt8(KB_ROW_BATCHED)
        let orderSets: [[UInt8]] = [
            [pairs, single, single, pairs, pairs, pairs, pairs, single, single, single, batched | pairs],
            Array(repeating: pairs, count: 9), Array(repeating: single, count: 9), Array(repeating: batched, count: 9),
        ]
        for orders in orderSets {
            var input = RandomWeights.activations(orders.count * columns, rng: &rng)
            if extreme { input = input.map { _ in 1 } }  // every activation quant 127
            if extreme { for i in stride(from: 0, to: input.count, by: 2) { input[i] = -1 } }  // and −127
            let activations = QuantizedActivations(format: .q8K)
            input.withUnsafeBufferPointer { activations.quantize($0.baseAddress!, inputCount: columns, batch: orders.count, pool: pool) }
            result.append(Case(matrix: matrix, packed: packed, activations: activations, orders: orders))
        }
        return result
    }

    /// The product of a repacked matrix with `family`'s kernels, rows [8, 40) (a range that does not start at 0).
    static func repackedProduct(_ c: Case, family: kb_family) -> [Float] {
        let rows = c.matrix.outputCount, batch = c.orders.count
        var output = [Float](repeating: .nan, count: batch * rows)
        for b in 0..<batch { for r in 0..<8 { output[b * rows + r] = 0 } }
        c.orders.withUnsafeBufferPointer { orders in
            output.withUnsafeMutableBufferPointer { out in
                kb_matmul_q4k_repacked_family(c.packed.bytes, Int64(c.matrix.inputCount), 8, Int64(rows),
                                              c.activations.bytes!, c.activations.rowByteCount, Int64(batch),
                                              orders.baseAddress!, out.baseAddress!, Int64(rows), family)
            }
        }
        return output
    }

    /// The per-row AVX2 kernels (llama.cpp's repacked GEMV and 4-row GEMM orders) on the file's rows.
    static func perRowProduct(_ c: Case) -> [Float] {
        let rows = c.matrix.outputCount, batch = c.orders.count
        var output = [Float](repeating: .nan, count: batch * rows)
        for b in 0..<batch { for r in 0..<8 { output[b * rows + r] = 0 } }
        c.orders.withUnsafeBufferPointer { orders in
            output.withUnsafeMutableBufferPointer { out in
                kb_matmul_family(Int32(TensorType.q4K.rawValue), c.matrix.tensor.bytes.baseAddress!, c.matrix.tensor.info.rowByteCount,
                                 Int64(c.matrix.inputCount), Int64(rows), 8, Int64(rows), c.activations.bytes!, c.activations.rowByteCount,
                                 Int64(batch), orders.baseAddress!, out.baseAddress!, Int64(rows), KB_FAMILY_AVX2)
            }
        }
        return output
    }

    func testScalarReferenceSumsAsThePerRowKernels() throws {
        try XCTSkipUnless(kb_cpu_has_family(KB_FAMILY_AVX2) != 0,
                          "not run: the per-row kernels in llama.cpp's orders are AVX2 kernels, and this CPU has no AVX2")
        for extreme in [false, true] {
            for (n, c) in try Self.cases(extreme: extreme).enumerated() {
                let reference = Self.repackedProduct(c, family: KB_FAMILY_GENERIC)
                XCTAssertFalse(reference.contains { $0.isNaN }, "every output written")
                XCTAssertEqual(reference.map(\.bitPattern), Self.perRowProduct(c).map(\.bitPattern), "case \(n) extreme \(extreme)")
            }
        }
    }

    private func assertFamilyMatchesReference(_ family: kb_family) throws {
        let name = String(cString: kb_family_name(family))
        try XCTSkipUnless(kb_cpu_has_family(family) != 0, "not run: this CPU cannot run the \(name) kernels")
        for extreme in [false, true] {
            for (n, c) in try Self.cases(extreme: extreme).enumerated() {
                let reference = Self.repackedProduct(c, family: KB_FAMILY_GENERIC)
                XCTAssertEqual(Self.repackedProduct(c, family: family).map(\.bitPattern), reference.map(\.bitPattern),
                               "\(name) case \(n) extreme \(extreme)")
            }
        }
    }

    func testAVX2KernelsGiveTheReferenceBits() throws { try assertFamilyMatchesReference(KB_FAMILY_AVX2) }
    func testAVXVNNIKernelsGiveTheReferenceBits() throws { try assertFamilyMatchesReference(KB_FAMILY_AVXVNNI) }
    func testAVX512KernelsGiveTheReferenceBits() throws { try assertFamilyMatchesReference(KB_FAMILY_AVX512) }

    /// Through `WeightMatrix`: a repacked matrix gives the bits of the same matrix unrepacked, in
    /// llama.cpp's orders for batches of 1 to 9 (and the repacked copy is 1,184 bytes per 8 rows
    /// of a super-block).
    func testRepackedMatrixGivesTheBitsOfTheFileRows() throws {
        try XCTSkipUnless(kb_best_family() != KB_FAMILY_GENERIC, "not run: no SIMD family runs here, so nothing is repacked")
        var rng = SeededGenerator(seed: 9)
        let rows = 48, columns = 512
        let bytes = RandomWeights.bytes(.q4K, rows: rows, columns: columns, rng: &rng)
        let repacked = try RandomWeights.matrix(.q4K, rows: rows, columns: columns, bytes: bytes)
        let plain = try RandomWeights.matrix(.q4K, rows: rows, columns: columns, bytes: bytes, repack: false)
        XCTAssertEqual(repacked.repacked?.byteCount, rows / 8 * columns / 256 * 1184)
        XCTAssertNil(plain.repacked)
        let pool = ThreadPool(threads: 2)
        for batch in [1, 3, 4, 5, 8, 9] {
            let input = RandomWeights.activations(batch * columns, rng: &rng)
            XCTAssertEqual(MatMulKernelTests.product(repacked, input, batch: batch, pool: pool, kernels: .automatic).map(\.bitPattern),
                           MatMulKernelTests.product(plain, input, batch: batch, pool: pool, kernels: .automatic).map(\.bitPattern),
                           "batch \(batch)")
        }
    }
}
