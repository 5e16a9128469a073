import CKBKernels
import Foundation
import XCTest
@testable import KBLLM
import KBSupport

/// The kernel families (`KB_KERNELS`): each family the CPU runs gives, for every weight type and
/// every row order, the bits of the AVX2 kernels (which are bit-exact with llama.cpp's AVX2 build;
/// `LanguageModelReferenceTests`). A family the CPU lacks reports its test as skipped, naming it.
final class KernelFamilyTests: XCTestCase {
    private func assertFamilyGivesAVX2Bits(_ family: kb_family) throws {
        let name = String(cString: kb_family_name(family))
        try XCTSkipUnless(kb_cpu_has_family(KB_FAMILY_AVX2) != 0, "not run: this CPU has no AVX2, the reference family")
        try XCTSkipUnless(kb_cpu_has_family(family) != 0, "not run: this CPU cannot run the \(name) kernels")
        var rng = SeededGenerator(seed: 21)
        let pool = ThreadPool(threads: 1)
        let orderChoices: [UInt8] = [UInt8(KB_ROW_SINGLE), UInt8(KB_ROW_BATCHED), UInt8(KB_ROW_PAIRS), UInt8(KB_ROW_BATCHED | KB_ROW_PAIRS)]
        for type in MatMulKernelTests.allTypes {
            let columns = type.blockSize == 256 ? 768 : type.blockSize == 32 ? 320 : 77
            for rows in [21, 40] {
                let matrix = try RandomWeights.matrix(type, rows: rows, columns: columns,
                                                      bytes: RandomWeights.bytes(type, rows: rows, columns: columns, rng: &rng), repack: false)
                let batch = 19
                let input = RandomWeights.activations(batch * columns, rng: &rng)
                // Runs of one order long enough for full passes of 8 rows, then mixed orders.
                let orderSets: [[UInt8]] = orderChoices.map { Array(repeating: $0, count: batch) }
                    + [(0..<batch).map { _ in orderChoices[Int.random(in: 0..<4, using: &rng)] }]
                let format = matrix.activationFormat
                let activations = format == .float ? nil : QuantizedActivations(format: format)
                input.withUnsafeBufferPointer { activations?.quantize($0.baseAddress!, inputCount: columns, batch: batch, pool: pool) }
                for orders in orderSets {
                    func product(_ family: kb_family) -> [Float] {
                        var output = [Float](repeating: .nan, count: batch * rows)
                        input.withUnsafeBufferPointer { x in
                            let (act, rowBytes) = activations.map { ($0.bytes!, $0.rowByteCount) }
                                ?? (UnsafeRawPointer(x.baseAddress!), columns * MemoryLayout<Float>.size)
                            orders.withUnsafeBufferPointer { o in
                                output.withUnsafeMutableBufferPointer { out in
                                    kb_matmul_family(Int32(type.rawValue), matrix.tensor.bytes.baseAddress!, matrix.tensor.info.rowByteCount,
                                                     Int64(columns), Int64(rows), 0, Int64(rows), act, rowBytes, Int64(batch),
                                                     o.baseAddress!, out.baseAddress!, Int64(rows), family)
                                }
                            }
                        }
                        return output
                    }
                    let reference = product(KB_FAMILY_AVX2)
                    XCTAssertFalse(reference.contains { $0.isNaN }, "\(type): every output written")
                    XCTAssertEqual(product(family).map(\.bitPattern), reference.map(\.bitPattern), "\(name) \(type) \(rows) rows, orders \(orders)")
                }
            }
        }
    }

    func testAVXVNNIFamilyGivesTheAVX2Bits() throws { try assertFamilyGivesAVX2Bits(KB_FAMILY_AVXVNNI) }
    func testAVX512FamilyGivesTheAVX2Bits() throws { try assertFamilyGivesAVX2Bits(KB_FAMILY_AVX512) }

    func testFamilyNamesAndTheChosenFamily() {
        XCTAssertEqual((0...3).map { String(cString: kb_family_name(kb_family(rawValue: $0))) }, ["generic", "avx2", "avxvnni", "avx512"])
        XCTAssertEqual(kb_cpu_has_family(kb_best_family()), 1, "the chosen family runs on this CPU")
        XCTAssertEqual(KernelSet.family, String(cString: kb_family_name(kb_best_family())))
        if ProcessInfo.processInfo.environment["KB_KERNELS"] == nil {
            XCTAssertNil(KernelSet.overrideProblem)
            for family in (0...3).map({ kb_family(rawValue: $0) }) where kb_cpu_has_family(family) != 0 {
                XCTAssertGreaterThanOrEqual(kb_best_family().rawValue, family.rawValue, "the best family the CPU has")
            }
        }
    }
}
