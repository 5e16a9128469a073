import KBSupport

/// ggml `block_q6_K`: a super-block of 256 weights in 16 sub-blocks of 16, each with a signed
/// 8-bit scale; 210 bytes (6.5625 bits per weight).
///
/// Weight `i` is `d × scales[i / 16] × (q − 32)` with 6-bit `q`. Each half of 128 weights takes
/// 64 bytes of `ql` and 32 of `qh`; within a half, weight `l + 32k` (`l` < 32, `k` < 4) has its low
/// four bits in `ql[l + 32·(k % 2)]` (low nibble for `k` < 2, else high) and its top two bits at
/// bits `2k, 2k+1` of `qh[l]`.
public struct BlockQ6K: QuantizedBlock {
    public static let tensorType = TensorType.q6K

    /// The low four bits of the quants, two halves of 64 bytes.
    public var ql: InlineArray<128, UInt8>
    /// The top two bits of the quants, two halves of 32 bytes, four weights per byte.
    public var qh: InlineArray<64, UInt8>
    /// The 16 sub-block scales.
    public var scales: InlineArray<16, Int8>
    /// The super-block scale, f16 bits.
    public var d: UInt16

    public func dequantize(into output: UnsafeMutablePointer<Float>) {
        let d = Float(f16Bits: self.d)
        for half in 0..<2 {
            let out = output + 128 * half
            for l in 0..<32 {
                let low0 = ql[64 * half + l], low1 = ql[64 * half + l + 32]
                let high = qh[32 * half + l]
                let q: (Int, Int, Int, Int) = (
                    Int(low0 & 0x0F | (high & 3) << 4) - 32,
                    Int(low1 & 0x0F | (high >> 2 & 3) << 4) - 32,
                    Int(low0 >> 4 | (high >> 4 & 3) << 4) - 32,
                    Int(low1 >> 4 | (high >> 6 & 3) << 4) - 32
                )
                let scale = 8 * half + l / 16  // sub-block of weight l; +2 for each 32 further
                out[l] = d * Float(scales[scale]) * Float(q.0)
                out[l + 32] = d * Float(scales[scale + 2]) * Float(q.1)
                out[l + 64] = d * Float(scales[scale + 4]) * Float(q.2)
                out[l + 96] = d * Float(scales[scale + 6]) * Float(q.3)
            }
        }
    }
}
