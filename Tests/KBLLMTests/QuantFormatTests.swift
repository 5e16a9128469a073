import Foundation
import XCTest
@testable import KBLLM
import KBSupport

/// Block layouts and the scalar reference dequantization, held to llama.cpp's `gguf.quants`
/// (numpy) on the real models and on the synthetic file. Dequantization is exact: the same f32
/// operations in the same order, so the tolerance is zero.
final class QuantFormatTests: XCTestCase {
    // MARK: - Layouts

    /// ggml's `static_assert`s: every block struct is exactly its type's bytes per block.
    func testBlockStructSizesMatchGGML() {
        func check<Block: QuantizedBlock>(_: Block.Type, bytes: Int, weights: Int, line: UInt = #line) {
            XCTAssertEqual(MemoryLayout<Block>.size, bytes, "\(Block.self)", line: line)
            XCTAssertEqual(MemoryLayout<Block>.stride, bytes, "\(Block.self) stride", line: line)
            XCTAssertEqual(Block.tensorType.bytesPerBlock, bytes, "\(Block.self)", line: line)
            XCTAssertEqual(Block.weightCount, weights, "\(Block.self)", line: line)
        }
        check(BlockQ4_0.self, bytes: 18, weights: 32)
        check(BlockQ4_1.self, bytes: 20, weights: 32)
        check(BlockQ5_0.self, bytes: 22, weights: 32)
        check(BlockQ5_1.self, bytes: 24, weights: 32)
        check(BlockQ8_0.self, bytes: 34, weights: 32)
        check(BlockQ4K.self, bytes: 144, weights: 256)
        check(BlockQ5K.self, bytes: 176, weights: 256)
        check(BlockQ6K.self, bytes: 210, weights: 256)
    }

    func testTensorTypeIdsAndSizesMatchGGML() {
        // (id, name, weights per block, bytes per block) from ggml.h / gguf.constants
        let table: [(UInt32, String, Int, Int)] = [
            (0, "F32", 1, 4), (1, "F16", 1, 2), (2, "Q4_0", 32, 18), (3, "Q4_1", 32, 20),
            (6, "Q5_0", 32, 22), (7, "Q5_1", 32, 24), (8, "Q8_0", 32, 34), (9, "Q8_1", 32, 40),
            (10, "Q2_K", 256, 84), (11, "Q3_K", 256, 110), (12, "Q4_K", 256, 144), (13, "Q5_K", 256, 176),
            (14, "Q6_K", 256, 210), (15, "Q8_K", 256, 292), (16, "IQ2_XXS", 256, 66), (23, "IQ4_XS", 256, 136),
            (28, "F64", 1, 8), (30, "BF16", 1, 2), (39, "MXFP4", 32, 17),
        ]
        for (id, name, weights, bytes) in table {
            guard let type = TensorType(rawValue: id) else {
                XCTFail("type id \(id) unknown")
                continue
            }
            XCTAssertEqual(type.name, name)
            XCTAssertEqual(type.blockSize, weights, name)
            XCTAssertEqual(type.bytesPerBlock, bytes, name)
        }
        XCTAssertNil(TensorType(rawValue: 4))  // Q4_2, removed
        XCTAssertNil(TensorType(rawValue: 31))  // Q4_0_4_4, removed
        XCTAssertEqual(TensorType.q4K.rowByteCount(4864), 19 * 144)
        XCTAssertNil(TensorType.q4K.rowByteCount(896))  // not a whole number of super-blocks
    }

    // MARK: - Float formats

    func testHalfFloatBitsConvertExactly() {
        XCTAssertEqual(Float(f16Bits: 0x3C00), 1)
        XCTAssertEqual(Float(f16Bits: 0xC000), -2)
        XCTAssertEqual(Float(f16Bits: 0x7BFF), 65504)  // largest finite
        XCTAssertEqual(Float(f16Bits: 0x0001), 0x1p-24)  // smallest subnormal
        XCTAssertEqual(Float(f16Bits: 0x03FF), 1023 * 0x1p-24)  // largest subnormal
        XCTAssertEqual(Float(f16Bits: 0x0400), 0x1p-14)  // smallest normal
        XCTAssertEqual(Float(f16Bits: 0x8000).bitPattern, (-0.0 as Float).bitPattern)
        XCTAssertEqual(Float(f16Bits: 0x7C00), .infinity)
        XCTAssertEqual(Float(f16Bits: 0xFC00), -.infinity)
        XCTAssertTrue(Float(f16Bits: 0x7E00).isNaN)
        XCTAssertEqual(Float(bf16Bits: 0x3F80), 1)
        XCTAssertEqual(Float(bf16Bits: 0xC0A0), -5)
    }

    #if !(os(macOS) && arch(x86_64))  // Float16 is unavailable on Intel macOS
    func testHalfFloatMatchesFloat16ForAllBitPatterns() {
        for bits in 0...UInt16.max {
            let expected = Float(Float16(bitPattern: bits))
            let actual = Float(f16Bits: bits)
            if expected.isNaN {
                XCTAssertTrue(actual.isNaN, "0x\(String(bits, radix: 16))")
            } else {
                XCTAssertEqual(actual.bitPattern, expected.bitPattern, "0x\(String(bits, radix: 16))")
            }
        }
    }
    #endif

    // MARK: - Hand-made blocks

    func testQ8_0BlockByHand() {
        let block = BlockQ8_0(d: 0x3800, qs: InlineArray { Int8($0) - 16 })  // d = 0.5
        XCTAssertEqual(block.dequantized(), (0..<32).map { Float($0 - 16) * 0.5 })
    }

    func testQ4_0AndQ4_1NibbleOrderByHand() {
        // byte j holds weight j (low nibble) and weight j + 16 (high nibble)
        let qs = InlineArray<16, UInt8> { UInt8($0) | UInt8(15 - $0) << 4 }
        let q4_0 = BlockQ4_0(d: 0x4000, qs: qs)  // d = 2
        XCTAssertEqual(q4_0.dequantized(), (0..<16).map { Float(($0 - 8) * 2) } + (0..<16).map { Float((7 - $0) * 2) })
        let q4_1 = BlockQ4_1(d: 0x3C00, m: 0xBC00, qs: qs)  // d = 1, m = -1
        XCTAssertEqual(q4_1.dequantized(), (0..<16).map { Float($0 - 1) } + (0..<16).map { Float(14 - $0) })
    }

    func testQ5_0FifthBitByHand() {
        // qh bit i is the fifth bit of weight i: set it for the odd weights only
        let block = BlockQ5_0(d: 0x3C00, qh: [0xAA, 0xAA, 0xAA, 0xAA], qs: InlineArray(repeating: 0x00))
        XCTAssertEqual(block.dequantized(), (0..<32).map { $0 % 2 == 1 ? 0 : -16 })
    }

    // MARK: - Against gguf.quants

    func testSyntheticTensorsDequantizeExactly() throws {
        let reference = try GGUFReference.load().synthetic
        let file = try GGUFFile(path: try GGUFReference.fixturePath(reference.file))
        var checked = Set<TensorType>()
        for expected in reference.tensors {
            let tensor = try file.tensor(named: expected.name)
            let values = try tensor.dequantize()
            XCTAssertEqual(values.count, expected.values.count, expected.name)
            assertExact(values, expected.values, expected.name)
            checked.insert(tensor.type)
        }
        XCTAssertEqual(checked, Set(TensorType.allCases.filter(\.canDequantize)), "every decodable type is covered")
    }

    func testModelTensorsDequantizeExactly() throws {
        for model in try GGUFReference.load().models {
            let file = try ModelFiles.open(model.file)
            for sample in model.dequantized {
                let tensor = try file.tensor(named: sample.tensor)
                XCTAssertEqual(tensor.type.name, sample.type)
                let rowsNeeded = (sample.values.count + tensor.info.rowLength - 1) / tensor.info.rowLength
                let values = try tensor.dequantize(rows: 0..<min(rowsNeeded, tensor.info.rowCount))
                assertExact(Array(values.prefix(sample.values.count)), sample.values, "\(model.file): \(sample.tensor)")
                let first = try tensor.dequantize(rows: 0..<1)
                let last = try tensor.dequantize(rows: tensor.info.rowCount - 1..<tensor.info.rowCount)
                assertStats(first, sample.firstRow, "\(model.file): \(sample.tensor) first row")
                assertStats(last, sample.lastRow, "\(model.file): \(sample.tensor) last row")
            }
            let types = Set(model.dequantized.map(\.type))
            XCTAssertEqual(types, Set(file.tensors.map(\.type.name)), "one sample per type in \(model.file)")
        }
    }

    func testDequantizeRejectsUnsupportedTypesAndWrongSizes() throws {
        let bytes = [UInt8](repeating: 0, count: 84)
        try bytes.withUnsafeBytes { source in
            XCTAssertThrowsError(try Dequantize.convert(.q2K, from: source, count: 256)) { error in
                XCTAssertEqual(error as? Dequantize.Failure, .unsupportedType(.q2K))
            }
            XCTAssertThrowsError(try Dequantize.convert(.q4_0, from: source, count: 32)) { error in
                XCTAssertEqual(error as? Dequantize.Failure, .sizeMismatch(type: .q4_0, count: 32, byteCount: 84))
            }
        }
    }

    // MARK: - Helpers

    func assertExact(_ actual: [Float], _ expected: [Double], _ message: String, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, message, line: line)
        var mismatches = 0
        for (index, (a, e)) in zip(actual, expected).enumerated() where a.bitPattern != Float(e).bitPattern {
            if mismatches < 5 { XCTFail("\(message)[\(index)]: \(a) != \(e)", line: line) }
            mismatches += 1
        }
        if mismatches > 0 { XCTFail("\(message): \(mismatches) of \(expected.count) values differ", line: line) }
    }

    /// Row sums in Double; numpy sums pairwise, so allow for rounding of the order (1e-9 relative).
    func assertStats(_ row: [Float], _ expected: GGUFReference.RowStats, _ message: String, line: UInt = #line) {
        let sum = row.reduce(0.0) { $0 + Double($1) }
        let squares = row.reduce(0.0) { $0 + Double($1) * Double($1) }
        XCTAssertEqual(sum, expected.sum, accuracy: 1e-9 * max(1, abs(expected.sum)), message, line: line)
        XCTAssertEqual(squares, expected.sumSquares, accuracy: 1e-9 * max(1, expected.sumSquares), message, line: line)
    }
}
