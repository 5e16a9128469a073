import Foundation
import XCTest
@testable import KBLLM
import KBSupport

/// Holds the fast matrix products (`WeightMatrix.multiply`, C kernels) to the scalar references.
///
/// Tolerances:
/// - Against a double-precision sum of (dequantized weight × dequantized int8 activation), i.e. the
///   same quantized activations: 2e-5 × Σ|w·x̂| (the integer part is exact; only the float sum of
///   per-block terms differs).
/// - Against `multiplyReference` (float input): the activation rounding bound
///   Σᵢ |wᵢ| · 0.51 · d(block of i) (|x − d·q| ≤ d/2), plus the 2e-5 above.
/// - SIMD against portable C: 2e-5 × Σ|w·x̂| (same integers, different float summation order).
/// - The activation quantizers are exact (same float operations): equal bits.
final class MatMulKernelTests: XCTestCase {
    static let allTypes: [TensorType] = [.f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4K, .q5K, .q6K]

    // MARK: - Activation quantizer

    /// Swift spelling of the rule in `QuantizedActivations` (llama.cpp's): q = rne(x · 127/max|x|);
    /// for `.q8` d = half(max|x| / 127) and s = half((max|x| / 127) · Σq), for `.q8K` d = 1 / (127/max|x|).
    static func referenceQuantize(_ x: ArraySlice<Float>, format: ActivationFormat) -> (d: Float, s: Float, q: [Int8]) {
        let amax = x.reduce(Float(0)) { max($0, abs($1)) }
        let id: Float = amax != 0 ? 127 / amax : 0
        let q = x.map { Int8(($0 * id).rounded(.toNearestOrEven)) }
        let sum = Float(q.reduce(0) { $0 + Int($1) })
        if format == .q8K { return (amax != 0 ? 1 / id : 0, 0, q) }
        return (Float(Float16(amax / 127)), Float(Float16(amax / 127 * sum)), q)
    }

    func testActivationQuantizerMatchesScalarReference() {
        var rng = SeededGenerator(seed: 1)
        let pool = ThreadPool(threads: 2)
        for format in [ActivationFormat.q8, .q8K] {
            let count = 3 * 256, batch = 19  // batch > 16: quantized in parallel
            var input = (0..<batch * count).map { _ in Float.random(in: -3...3, using: &rng) }
            for i in 0..<256 { input[count + i] = 0 }  // an all-zero block (row 1)
            // Block 0 of row 0: max 127 makes the scale exactly 1, so halves round to even.
            input[5] = 127
            input[6] = -2.5
            input[7] = 2.5
            input[8] = 3.5
            for kernels in KernelSet.allCases {
                let activations = QuantizedActivations(format: format)
                input.withUnsafeBufferPointer {
                    activations.quantize($0.baseAddress!, inputCount: count, batch: batch, pool: pool, kernels: kernels)
                }
                for b in 0..<batch {
                    var scales: [Float] = [], quants: [Int8] = [], sums: [Float] = []
                    for block in stride(from: 0, to: count, by: format.blockSize) {
                        let start = b * count + block
                        let (d, s, q) = Self.referenceQuantize(input[start..<start + format.blockSize], format: format)
                        scales.append(d)
                        quants += q
                        if format == .q8K {
                            for group in stride(from: 0, to: q.count, by: 16) {
                                sums.append(Float(q[group..<group + 16].reduce(0) { $0 + Int($1) }))
                            }
                        } else {
                            sums.append(s)
                        }
                    }
                    XCTAssertEqual(activations.scales(row: b), scales, "\(format) \(kernels) row \(b)")
                    XCTAssertEqual(activations.quants(row: b), quants, "\(format) \(kernels) row \(b)")
                    XCTAssertEqual(activations.sums(row: b), sums, "\(format) \(kernels) row \(b)")
                }
                XCTAssertEqual(Array(activations.quants(row: 0)[5...8]), [127, -2, 2, 4], "\(format) \(kernels): halves round to even")
                XCTAssertEqual(activations.quants(row: 1)[0..<256].allSatisfy { $0 == 0 }, true)
            }
        }
    }

    // MARK: - Random weights of every type

    func testEveryWeightTypeMatchesReferencesOnRandomBlocks() throws {
        var rng = SeededGenerator(seed: 2)
        let pool = ThreadPool(threads: 2)
        for type in Self.allTypes {
            let columns = type.blockSize == 256 ? 512 : type.blockSize == 32 ? 224 : 203  // 203: a SIMD tail
            let rows = 37
            let matrix = try RandomWeights.matrix(
                type, rows: rows, columns: columns, bytes: RandomWeights.bytes(type, rows: rows, columns: columns, rng: &rng))
            for batch in [1, 2, 3, 4, 5, 7, 9] {
                let input = RandomWeights.activations(batch * columns, rng: &rng)
                for kernels in KernelSet.allCases {
                    try assertMatchesReferences(matrix, input: input, batch: batch, pool: pool, kernels: kernels, "\(type) batch \(batch) \(kernels)")
                }
            }
        }
    }

    /// With an order given per row (the batching engine's products), a row's result has the same
    /// bits whatever rows are beside it and however many: each row of a batch of 11 with mixed
    /// orders equals that row multiplied alone in its order — for every type, and for a Q4_K matrix
    /// of a multiple of 8 rows (repacked in llama.cpp, whose 4-row GEMM sums in another order).
    func testARowsResultDependsOnlyOnItsOwnOrder() throws {
        var rng = SeededGenerator(seed: 4)
        let pool = ThreadPool(threads: 2)
        let choices: [RowOrder] = [.single, .batched, .pairs, [.batched, .pairs]]
        for (type, rows) in Self.allTypes.map({ ($0, 37) }) + [(.q4K, 40)] {
            let columns = type.blockSize == 256 ? 512 : type.blockSize == 32 ? 224 : 203
            let matrix = try RandomWeights.matrix(
                type, rows: rows, columns: columns, bytes: RandomWeights.bytes(type, rows: rows, columns: columns, rng: &rng))
            let batch = 11
            let input = RandomWeights.activations(batch * columns, rng: &rng)
            // Mixed orders (short runs), then one order for all 11 rows (a pass of 8 rows and one of 3).
            for orders in [(0..<batch).map { _ in choices[Int.random(in: 0..<4, using: &rng)] }, Array(repeating: RowOrder.single, count: batch)] {
            var together = [Float](repeating: .nan, count: batch * rows)
            input.withUnsafeBufferPointer { x in
                together.withUnsafeMutableBufferPointer { out in
                    matrix.multiply(x.baseAddress!, batch: batch, into: out.baseAddress!, pool: pool, kernels: .automatic, order: .rows(orders))
                }
            }
            for b in 0..<batch {
                var alone = [Float](repeating: .nan, count: rows)
                input.withUnsafeBufferPointer { x in
                    alone.withUnsafeMutableBufferPointer { out in
                        matrix.multiply(x.baseAddress! + b * columns, batch: 1, into: out.baseAddress!, pool: pool, kernels: .automatic,
                                        order: .rows([orders[b]]))
                    }
                }
                XCTAssertEqual(Array(together[b * rows..<(b + 1) * rows]).map(\.bitPattern), alone.map(\.bitPattern),
                               "\(type) \(rows) rows: batch row \(b) in order \(orders[b].rawValue)")
            }
            }
            // llama.cpp's own orders for a batch are the per-row orders it implies.
            var llama = [Float](repeating: .nan, count: batch * rows)
            input.withUnsafeBufferPointer { x in
                llama.withUnsafeMutableBufferPointer { out in
                    matrix.multiply(x.baseAddress!, batch: batch, into: out.baseAddress!, pool: pool, kernels: .automatic,
                                    order: .rows(RowOrder.llamaCpp(batch: batch)))
                }
            }
            XCTAssertEqual(llama.map(\.bitPattern), Self.product(matrix, input, batch: batch, pool: pool, kernels: .automatic).map(\.bitPattern),
                           "\(type): .llamaCpp is RowOrder.llamaCpp(batch:)")
        }
    }

    func testSIMDKernelsMatchPortableKernels() throws {
        var rng = SeededGenerator(seed: 3)
        let pool = ThreadPool(threads: 1)
        for type in Self.allTypes {
            let columns = type.blockSize == 256 ? 768 : type.blockSize == 32 ? 320 : 77
            let rows = 21
            let matrix = try RandomWeights.matrix(
                type, rows: rows, columns: columns, bytes: RandomWeights.bytes(type, rows: rows, columns: columns, rng: &rng))
            for batch in [1, 6] {
                let input = RandomWeights.activations(batch * columns, rng: &rng)
                let fast = Self.product(matrix, input, batch: batch, pool: pool, kernels: .automatic)
                let portable = Self.product(matrix, input, batch: batch, pool: pool, kernels: .portable)
                let magnitude = try Self.absoluteProduct(matrix, input, batch: batch, pool: pool)
                for i in fast.indices {
                    XCTAssertEqual(fast[i], portable[i], accuracy: 2e-5 * magnitude[i] + 1e-30, "\(type) batch \(batch) output \(i)")
                }
            }
        }
    }

    func testPrequantizedActivationsGiveTheSameProduct() throws {
        var rng = SeededGenerator(seed: 4)
        let pool = ThreadPool(threads: 2)
        for type in [TensorType.q4K, .q8_0] {
            let columns = 512, rows = 40, batch = 5
            let matrix = try RandomWeights.matrix(
                type, rows: rows, columns: columns, bytes: RandomWeights.bytes(type, rows: rows, columns: columns, rng: &rng))
            let input = RandomWeights.activations(batch * columns, rng: &rng)
            let activations = QuantizedActivations(format: matrix.activationFormat)
            input.withUnsafeBufferPointer {
                activations.quantize($0.baseAddress!, inputCount: columns, batch: batch, pool: pool)
            }
            var output = [Float](repeating: .nan, count: batch * rows)
            output.withUnsafeMutableBufferPointer { matrix.multiply(activations, into: $0.baseAddress!, pool: pool) }
            XCTAssertEqual(output, Self.product(matrix, input, batch: batch, pool: pool, kernels: .automatic), "\(type)")
        }
    }

    // MARK: - Real tensors

    func testRealQwen2TensorsMatchReferences() throws {
        try assertRealTensors(GGUFFileTests.qwen2, expectedTypes: [.q4K, .q5_0, .q6K, .q8_0, .f32])
    }

    func testRealSmolLM2TensorsMatchReferences() throws {
        try assertRealTensors(GGUFFileTests.smolLM2, expectedTypes: [.q4_1, .q8_0, .f32])
    }

    /// For each weight type in the model, its smallest tensor (as a matrix, a 1-D norm as one row)
    /// against the references, batch 1 and 5.
    private func assertRealTensors(_ model: String, expectedTypes: Set<TensorType>) throws {
        let file = try ModelFiles.open(model)
        var smallest: [TensorType: GGUFTensorInfo] = [:]
        for info in file.tensors where info.shape.count <= 2 {
            if let current = smallest[info.type], current.byteCount <= info.byteCount { continue }
            smallest[info.type] = info
        }
        XCTAssertEqual(Set(smallest.keys), expectedTypes, model)
        var rng = SeededGenerator(seed: 5)
        let pool = ThreadPool(threads: 2)
        for (type, info) in smallest.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            let matrix = try WeightMatrix(try file.tensor(info), file: model)
            for batch in [1, 5] {
                let input = RandomWeights.activations(batch * matrix.inputCount, rng: &rng)
                // Some rows (the debug-build references are slow on 30M-weight embeddings).
                let outputs = matrix.outputCount
                let rows = Array(Set(Array(0..<min(48, outputs)) + Array(stride(from: 0, to: outputs, by: 997)) + [outputs - 1])).sorted()
                try assertMatchesReferences(matrix, input: input, batch: batch, pool: pool, kernels: .automatic,
                                            "\(model) \(info.name) (\(type)) batch \(batch)", rows: rows)
            }
        }
    }

    // MARK: - Helpers

    static func product(_ matrix: WeightMatrix, _ input: [Float], batch: Int, pool: ThreadPool, kernels: KernelSet) -> [Float] {
        var output = [Float](repeating: .nan, count: batch * matrix.outputCount)
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                matrix.multiply(x.baseAddress!, batch: batch, into: y.baseAddress!, pool: pool, kernels: kernels)
            }
        }
        return output
    }

    /// Σ|w|·|x̂| per output, x̂ the activations as the kernel sees them.
    static func absoluteProduct(_ matrix: WeightMatrix, _ input: [Float], batch: Int, pool: ThreadPool) throws -> [Float] {
        let weights = try matrix.tensor.dequantize().map(abs)
        let seen = kernelInputs(matrix, input, batch: batch, pool: pool, kernels: .portable)
        var result = [Float](repeating: 0, count: batch * matrix.outputCount)
        for b in 0..<batch {
            for o in 0..<matrix.outputCount {
                var sum = 0.0
                for i in 0..<matrix.inputCount { sum += Double(weights[o * matrix.inputCount + i]) * Double(abs(seen[b][i])) }
                result[b * matrix.outputCount + o] = Float(sum)
            }
        }
        return result
    }

    /// The activations each kernel multiplies: the input itself for float weights, else its int8
    /// quantization decoded.
    static func kernelInputs(_ matrix: WeightMatrix, _ input: [Float], batch: Int, pool: ThreadPool, kernels: KernelSet) -> [[Float]] {
        let n = matrix.inputCount
        guard matrix.activationFormat != .float else { return (0..<batch).map { Array(input[$0 * n..<($0 + 1) * n]) } }
        let activations = QuantizedActivations(format: matrix.activationFormat)
        input.withUnsafeBufferPointer { activations.quantize($0.baseAddress!, inputCount: n, batch: batch, pool: pool, kernels: kernels) }
        return (0..<batch).map { activations.dequantized(row: $0) }
    }

    /// For Q4_1/Q5_1 weights (minimum `m` per block, products with `.q8` blocks): what the kernel's
    /// minimum term m·s (s = d·Σq rounded to a half, as llama.cpp's `block_q8_1`) adds to the
    /// product over the decoded activations (which has m·d·Σq), as a function of (row b, output o).
    static func minimumTermCorrections(
        _ matrix: WeightMatrix, _ input: [Float], batch: Int, pool: ThreadPool, kernels: KernelSet
    ) -> ((Int, Int) -> Double)? {
        guard matrix.tensor.type == .q4_1 || matrix.tensor.type == .q5_1 else { return nil }
        let n = matrix.inputCount, blocks = n / 32, blockBytes = matrix.tensor.type.bytesPerBlock
        let activations = QuantizedActivations(format: .q8)
        input.withUnsafeBufferPointer { activations.quantize($0.baseAddress!, inputCount: n, batch: batch, pool: pool, kernels: kernels) }
        // Per row and block: s − d·Σq.
        let excess: [[Double]] = (0..<batch).map { b in
            let scales = activations.scales(row: b), sums = activations.sums(row: b), quants = activations.quants(row: b)
            return (0..<blocks).map { k in
                let quantSum = quants[32 * k..<32 * k + 32].reduce(0) { $0 + Int($1) }
                return Double(sums[k]) - Double(scales[k]) * Double(quantSum)
            }
        }
        return { b, o in
            let row = matrix.tensor.row(o)
            var total = 0.0
            for k in 0..<blocks {
                let bits = UInt16(row[k * blockBytes + 2]) | UInt16(row[k * blockBytes + 3]) << 8  // m, after d
                total += Double(Float(f16Bits: bits)) * excess[b][k]
            }
            return total
        }
    }

    /// Checks `rows` of the product (all with `nil`: then the float reference is
    /// `multiplyReference` itself; for a sample, the same float loop per row).
    private func assertMatchesReferences(
        _ matrix: WeightMatrix, input: [Float], batch: Int, pool: ThreadPool, kernels: KernelSet, _ label: String,
        rows: [Int]? = nil, line: UInt = #line
    ) throws {
        let n = matrix.inputCount, outputs = matrix.outputCount
        let fast = Self.product(matrix, input, batch: batch, pool: pool, kernels: kernels)
        var float = [Float](repeating: .nan, count: batch * outputs)
        var weights = [Float](repeating: .nan, count: outputs * n)
        if let rows {
            for o in rows {
                let row = try matrix.tensor.dequantize(rows: o..<o + 1)
                weights.replaceSubrange(o * n..<(o + 1) * n, with: row)
                for b in 0..<batch {
                    var sum: Float = 0
                    for i in 0..<n { sum += row[i] * input[b * n + i] }
                    float[b * outputs + o] = sum
                }
            }
        } else {
            input.withUnsafeBufferPointer { x in
                float.withUnsafeMutableBufferPointer { matrix.multiplyReference(x.baseAddress!, batch: batch, into: $0.baseAddress!, pool: pool) }
            }
            weights = try matrix.tensor.dequantize()
        }
        let seen = Self.kernelInputs(matrix, input, batch: batch, pool: pool, kernels: kernels)
        let minimumTerms = Self.minimumTermCorrections(matrix, input, batch: batch, pool: pool, kernels: kernels)
        // Half a quantization step per activation (0 for float weights).
        let step: [[Float]] = (0..<batch).map { b in
            guard matrix.activationFormat != .float else { return [Float](repeating: 0, count: n) }
            let size = matrix.activationFormat.blockSize
            return (0..<n).map { i in
                let block = input[b * n + i / size * size..<b * n + (i / size + 1) * size]
                return 0.51 * block.reduce(Float(0)) { max($0, abs($1)) } / 127
            }
        }
        for b in 0..<batch {
            for o in rows ?? Array(0..<outputs) {
                var exact = minimumTerms?(b, o) ?? 0, magnitude = 0.0, rounding = 0.0
                for i in 0..<n {
                    let w = Double(weights[o * n + i])
                    exact += w * Double(seen[b][i])
                    magnitude += abs(w * Double(seen[b][i]))
                    rounding += abs(w) * Double(step[b][i])
                }
                let index = b * outputs + o
                let got = Double(fast[index])
                XCTAssertEqual(got, exact, accuracy: 2e-5 * magnitude + 1e-30, "\(label): output \(o) of row \(b) vs same-activation reference", line: line)
                XCTAssertEqual(got, Double(float[index]), accuracy: rounding + 2e-5 * magnitude + 1e-30,
                               "\(label): output \(o) of row \(b) vs float reference", line: line)
            }
        }
        XCTAssertFalse(fast.contains { $0.isNaN }, "\(label): an output was not written", line: line)
    }
}
