import KBSupport

/// Scalar reference dequantization of tensor data of any supported ``TensorType`` to `Float`.
///
/// This is the specification the fast kernels are held to, not a fast path: it reads each block
/// with an unaligned load and decodes it with the block's own ``QuantizedBlock/dequantize(into:)``.
public enum Dequantize {
    /// Why data could not be dequantized.
    public enum Failure: Error, Equatable, Sendable {
        /// The type has no dequantization in kb (see ``TensorType/canDequantize``).
        case unsupportedType(TensorType)
        /// `byteCount` source bytes are not exactly `count` weights of the type.
        case sizeMismatch(type: TensorType, count: Int, byteCount: Int)
    }

    /// Decodes the weights in `source` into `output`, which must hold exactly as many weights as
    /// `source` encodes (`output.count` a multiple of the type's block size).
    /// - Throws: ``Failure``.
    /// - Complexity: O(`output.count`).
    public static func convert(
        _ type: TensorType, from source: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<Float>
    ) throws(Failure) {
        guard type.canDequantize else { throw .unsupportedType(type) }
        guard type.rowByteCount(output.count) == source.count else {
            throw .sizeMismatch(type: type, count: output.count, byteCount: source.count)
        }
        guard let out = output.baseAddress, let bytes = source.baseAddress else { return }  // empty
        let count = output.count
        switch type {
        case .f32:
            for i in 0..<count {
                out[i] = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            }
        case .f16:
            for i in 0..<count {
                out[i] = Float(f16Bits: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            }
        case .bf16:
            for i in 0..<count {
                out[i] = Float(bf16Bits: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            }
        case .q4_0: blocks(BlockQ4_0.self, bytes, count, out)
        case .q4_1: blocks(BlockQ4_1.self, bytes, count, out)
        case .q5_0: blocks(BlockQ5_0.self, bytes, count, out)
        case .q5_1: blocks(BlockQ5_1.self, bytes, count, out)
        case .q8_0: blocks(BlockQ8_0.self, bytes, count, out)
        case .q4K: blocks(BlockQ4K.self, bytes, count, out)
        case .q5K: blocks(BlockQ5K.self, bytes, count, out)
        case .q6K: blocks(BlockQ6K.self, bytes, count, out)
        default: throw .unsupportedType(type)
        }
    }

    /// Decodes `source` into a new array of `count` weights.
    /// - Throws: ``Failure``.
    public static func convert(_ type: TensorType, from source: UnsafeRawBufferPointer, count: Int) throws(Failure) -> [Float] {
        var result = [Float](repeating: 0, count: count)
        try result.withUnsafeMutableBufferPointer { (output) throws(Failure) in
            try convert(type, from: source, into: output)
        }
        return result
    }

    /// `count / blockSize` blocks of `Block` at `bytes` (any alignment) into `out`.
    private static func blocks<Block: QuantizedBlock>(
        _: Block.Type, _ bytes: UnsafeRawPointer, _ count: Int, _ out: UnsafeMutablePointer<Float>
    ) {
        assert(MemoryLayout<Block>.size == Block.tensorType.bytesPerBlock)
        let blockBytes = MemoryLayout<Block>.size, blockWeights = Block.weightCount
        for block in 0..<count / blockWeights {
            bytes.loadUnaligned(fromByteOffset: block * blockBytes, as: Block.self)
                .dequantize(into: out + block * blockWeights)
        }
    }
}
