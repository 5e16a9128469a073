import KBSupport

/// A block of a quantized tensor type, laid out exactly as in a GGUF file.
///
/// Each conforming struct mirrors a ggml `block_*` struct field for field, so a tensor's bytes
/// can be read as an array of blocks; `MemoryLayout<Block>.size` must equal the type's
/// ``TensorType/bytesPerBlock`` (the tests assert it, as ggml's `static_assert`s do).
/// Scales stored as IEEE half floats are kept as their `UInt16` bits (see `Float(f16Bits:)`).
///
/// ``dequantize(into:)`` is the scalar reference: plain, obviously correct code that fast
/// kernels are tested against.
public protocol QuantizedBlock: BitwiseCopyable, Sendable {
    /// The tensor type whose blocks these are.
    static var tensorType: TensorType { get }

    /// Writes the block's weights, `tensorType.blockSize` floats, to `output[0..<blockSize]`.
    func dequantize(into output: UnsafeMutablePointer<Float>)
}

extension QuantizedBlock {
    /// Weights per block.
    public static var weightCount: Int { tensorType.blockSize }

    /// The block's weights as an array (for tests and debugging).
    public func dequantized() -> [Float] {
        [Float](unsafeUninitializedCapacity: Self.weightCount) { buffer, initialized in
            if let base = buffer.baseAddress { dequantize(into: base) }
            initialized = Self.weightCount
        }
    }
}
