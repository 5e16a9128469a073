import KBSupport

/// ggml `block_q5_0`: 32 weights as 5-bit integers with one scale; 22 bytes.
///
/// Weight `i` is `d × (q[i] − 16)`: the low four bits of `q[i]` are nibbles ordered as in
/// ``BlockQ4_0``, the fifth bit is bit `i` of the little-endian 32-bit `qh`.
public struct BlockQ5_0: QuantizedBlock {
    public static let tensorType = TensorType.q5_0

    /// The scale, f16 bits.
    public var d: UInt16
    /// The fifth bits of the 32 quants: a little-endian `UInt32`, bit `i` for weight `i`.
    public var qh: InlineArray<4, UInt8>
    /// The low four bits of the 32 quants: weights 0-15 in the low nibbles, 16-31 in the high ones.
    public var qs: InlineArray<16, UInt8>

    /// `qh` as the integer it encodes.
    var highBits: UInt32 { UInt32(qh[0]) | UInt32(qh[1]) << 8 | UInt32(qh[2]) << 16 | UInt32(qh[3]) << 24 }

    public func dequantize(into output: UnsafeMutablePointer<Float>) {
        let d = Float(f16Bits: self.d)
        let high = highBits
        for j in 0..<16 {
            let h0 = UInt8((high >> UInt32(j)) & 1) << 4
            let h1 = UInt8((high >> UInt32(j + 16)) & 1) << 4
            output[j] = Float(Int(qs[j] & 0x0F | h0) - 16) * d
            output[j + 16] = Float(Int(qs[j] >> 4 | h1) - 16) * d
        }
    }
}
