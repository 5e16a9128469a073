import Foundation
import KBTestSupport
import XCTest
@testable import KBLLM

/// Bounded, seeded mutation fuzzing of the GGUF reader, from the synthetic fixture (every value
/// type, nested arrays, one tensor of each type kb decodes). Opening a damaged file must throw
/// ``GGUFError``; a file that opens must answer every accessor (arrays decoded, tensor rows
/// dequantized) without crashing. `scripts/fuzz.sh` runs longer.
final class GGUFFuzzTests: XCTestCase {
    func testDamagedHeadersNeverCrash() throws {
        let reference = try GGUFReference.load().synthetic
        let synthetic = try [UInt8](Data(contentsOf: URL(fileURLWithPath: try GGUFReference.fixturePath(reference.file))))
        // The header and metadata (the part that is parsed) weigh most: mutate it alone too.
        let seeds = [synthetic, Array(synthetic.prefix(try GGUFFile(path: GGUFReference.fixturePath(reference.file)).dataOffset))]
        let path = MalformedFiles.directory.appendingPathComponent("fuzz.gguf").path
        let fuzzer = ByteFuzzer(seeds: seeds, iterations: 4_000, randomSeed: 0x4747_5546)
        let summary = fuzzer.run(isExpected: { $0 is GGUFError }) { bytes in
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            Self.exercise(try GGUFFile(path: path))
        }
        print("GGUF fuzz: \(summary)")
        XCTAssertGreaterThan(summary.accepted, 0, "some mutated files still open")
    }

    /// Counts of 2^60 and more in every count and length field fail before any allocation.
    func testHugeCountsAreRefusedWithoutAllocating() throws {
        func header(tensors: UInt64, keys: UInt64) -> [UInt8] {
            Array("GGUF".utf8) + le(UInt32(3)) + le(tensors) + le(keys)
        }
        let string: (UInt64) -> [UInt8] = { le($0) + Array("k".utf8) }
        let cases: [String: [UInt8]] = [
            "tensor count": header(tensors: 1 << 60, keys: 0),
            "key count": header(tensors: 0, keys: UInt64.max),
            "key length": header(tensors: 0, keys: 1) + string(1 << 60),
            "string value": header(tensors: 0, keys: 1) + string(1) + le(UInt32(8)) + le(UInt64(1) << 62),
            "array count": header(tensors: 0, keys: 1) + string(1) + le(UInt32(9)) + le(UInt32(0)) + le(UInt64(1) << 60),
            "array of strings": header(tensors: 0, keys: 1) + string(1) + le(UInt32(9)) + le(UInt32(8)) + le(UInt64.max / 8),
            "tensor dims": header(tensors: 1, keys: 0) + string(1) + le(UInt32(2)) + le(UInt64(1) << 40) + le(UInt64(1) << 40)
                + le(UInt32(0)) + le(UInt64(0)),
        ]
        for (name, bytes) in cases {
            let path = try MalformedFiles.write(Data(bytes + [UInt8](repeating: 0, count: 64)), name: "huge-\(name).gguf")
            XCTAssertThrowsError(try GGUFFile(path: path), name) { XCTAssertTrue($0 is GGUFError, "\(name): \($0)") }
        }
    }

    /// Everything a model load would read from an opened file.
    static func exercise(_ file: GGUFFile) {
        for key in file.metadata.keys {
            guard let array = file.metadata[key]?.arrayValue else { continue }
            _ = try? array.values()
            _ = try? array.strings()
            _ = try? array.integers()
            _ = try? array.floats()
            _ = try? array.bools()
        }
        for info in file.tensors {
            guard let tensor = try? file.tensor(info) else { continue }
            XCTAssertEqual(tensor.bytes.count, info.byteCount)
            if info.rowCount > 0, info.rowLength <= 1 << 20, info.type.canDequantize {
                _ = tensor.row(0)
                XCTAssertEqual(try tensor.dequantize(rows: 0..<1).count, info.rowLength)
            }
        }
    }
}

private func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian, Array.init)
}
