import Foundation
import XCTest
@testable import KBLLM
import KBSupport

/// A small seeded generator so failures reproduce.
typealias SeededGenerator = SplitMix64

/// Weight matrices of random blocks for the kernel tests, mapped from a temporary file like a
/// real GGUF tensor.
enum RandomWeights {
    /// Half-float bits of a value of magnitude in [2^-7, 2^-2), with a random sign when `signed`.
    static func scaleBits(_ rng: inout SeededGenerator, signed: Bool = false) -> UInt16 {
        let exponent = UInt16.random(in: 8...12, using: &rng)  // biased by 15
        let mantissa = UInt16.random(in: 0..<1024, using: &rng)
        let sign: UInt16 = signed && Bool.random(using: &rng) ? 0x8000 : 0
        return sign | exponent << 10 | mantissa
    }

    /// The byte offsets of the f16 scale fields in a block of `type` (the rest is random quants).
    static func scaleOffsets(_ type: TensorType) -> (unsigned: [Int], signed: [Int]) {
        switch type {
        case .q4_0, .q5_0, .q8_0: ([0], [])
        case .q4_1, .q5_1: ([0], [2])  // d, m (minimum, often negative)
        case .q4K, .q5K: ([0, 2], [])  // d, dmin
        case .q6K: ([208], [])
        default: ([], [])
        }
    }

    /// `rows × columns` weights of `type` with random quants and sane random scales.
    static func bytes(_ type: TensorType, rows: Int, columns: Int, rng: inout SeededGenerator) -> [UInt8] {
        let rowBytes = type.rowByteCount(columns)!
        var bytes = [UInt8](repeating: 0, count: rows * rowBytes)
        switch type {
        case .f32:
            for i in 0..<rows * columns {
                let value = Float.random(in: -1...1, using: &rng)
                withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.replaceSubrange(4 * i..<4 * i + 4, with: $0) }
            }
        case .f16, .bf16:
            for i in 0..<rows * columns {
                let value = Float.random(in: -1...1, using: &rng)
                let bits = type == .f16 ? Float16(value).bitPattern : UInt16(value.bitPattern >> 16)
                bytes[2 * i] = UInt8(bits & 0xFF)
                bytes[2 * i + 1] = UInt8(bits >> 8)
            }
        default:
            for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255, using: &rng) }
            let (unsigned, signed) = scaleOffsets(type)
            for block in 0..<rows * columns / type.blockSize {
                let base = block * type.bytesPerBlock
                for (offsets, isSigned) in [(unsigned, false), (signed, true)] {
                    for offset in offsets {
                        let bits = scaleBits(&rng, signed: isSigned)
                        bytes[base + offset] = UInt8(bits & 0xFF)
                        bytes[base + offset + 1] = UInt8(bits >> 8)
                    }
                }
            }
        }
        return bytes
    }

    /// A ``WeightMatrix`` over `bytes` (rows of `columns` weights of `type`), through a temporary file.
    static func matrix(_ type: TensorType, rows: Int, columns: Int, bytes: [UInt8], repack: Bool = true) throws -> WeightMatrix {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kb-weights-\(UUID().uuidString).bin")
        try Data(bytes).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let mapping = try MappedFile(path: url.path)  // stays mapped after the file is removed
        let info = GGUFTensorInfo(name: "random.\(type.name)", shape: [columns, rows], type: type, offset: 0, byteCount: bytes.count)
        return try WeightMatrix(GGUFTensor(info: info, bytes: mapping.bytes, mapping: mapping), file: url.path, repack: repack)
    }

    /// Normal-ish random activations (sum of uniforms), with a few large outliers as real ones have.
    static func activations(_ count: Int, rng: inout SeededGenerator) -> [Float] {
        (0..<count).map { i in
            let value = (0..<3).reduce(Float(0)) { sum, _ in sum + Float.random(in: -1...1, using: &rng) }
            return i % 97 == 13 ? value * 20 : value
        }
    }
}
