import KBSupport

/// ggml `block_q8_0`: 32 weights as signed bytes with one scale; 34 bytes.
///
/// Weight `i` is `d × qs[i]`.
public struct BlockQ8_0: QuantizedBlock {
    public static let tensorType = TensorType.q8_0

    /// The scale, f16 bits.
    public var d: UInt16
    /// The 32 quants, in weight order.
    public var qs: InlineArray<32, Int8>

    public func dequantize(into output: UnsafeMutablePointer<Float>) {
        let d = Float(f16Bits: self.d)
        for j in 0..<32 {
            output[j] = Float(qs[j]) * d
        }
    }
}
