import KBSupport

/// ggml `block_q4_0`: 32 weights as 4-bit integers with one scale; 18 bytes.
///
/// Weight `i` is `d × (q[i] − 8)`, with `q[i]` in the low nibble of `qs[i]` for `i < 16` and the
/// high nibble of `qs[i − 16]` otherwise.
public struct BlockQ4_0: QuantizedBlock {
    public static let tensorType = TensorType.q4_0

    /// The scale, f16 bits.
    public var d: UInt16
    /// 32 4-bit quants, two per byte: weights 0-15 in the low nibbles, 16-31 in the high ones.
    public var qs: InlineArray<16, UInt8>

    /// The layout is ``Q4_0Layout``'s (one statement of it, shared with the E5 weight file).
    public func dequantize(into output: UnsafeMutablePointer<Float>) {
        withUnsafeBytes(of: self) { Q4_0Layout.dequantize(block: $0.baseAddress!, into: output) }
    }
}
