import KBSupport

/// ggml `block_q4_1`: 32 weights as 4-bit integers with a scale and a minimum; 20 bytes.
///
/// Weight `i` is `d × q[i] + m`, nibbles ordered as in ``BlockQ4_0``.
public struct BlockQ4_1: QuantizedBlock {
    public static let tensorType = TensorType.q4_1

    /// The scale, f16 bits.
    public var d: UInt16
    /// The minimum (the value of quant 0), f16 bits.
    public var m: UInt16
    /// 32 4-bit quants: weights 0-15 in the low nibbles, 16-31 in the high ones.
    public var qs: InlineArray<16, UInt8>

    public func dequantize(into output: UnsafeMutablePointer<Float>) {
        let d = Float(f16Bits: self.d)
        let m = Float(f16Bits: self.m)
        for j in 0..<16 {
            output[j] = Float(qs[j] & 0x0F) * d + m
            output[j + 16] = Float(qs[j] >> 4) * d + m
        }
    }
}
