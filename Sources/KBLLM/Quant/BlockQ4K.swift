import KBSupport

/// ggml `block_q4_K`: a super-block of 256 weights in 8 sub-blocks of 32, each with a 6-bit
/// scale and a 6-bit minimum; 144 bytes (4.5 bits per weight).
///
/// Weight `32·s + i` of sub-block `s` is `d·sc[s] × q − dmin·m[s]` with 4-bit `q`. The quants
/// come in four 32-byte groups; group `g` holds sub-block `2g` in its low nibbles and sub-block
/// `2g + 1` in its high nibbles.
public struct BlockQ4K: QuantizedBlock {
    public static let tensorType = TensorType.q4K

    /// The super-block scale of the sub-block scales, f16 bits.
    public var d: UInt16
    /// The super-block scale of the sub-block minimums, f16 bits.
    public var dmin: UInt16
    /// Eight 6-bit scales and eight 6-bit minimums packed in 12 bytes (see ``scaleAndMin(_:_:)``).
    public var scales: InlineArray<12, UInt8>
    /// 256 4-bit quants: four groups of 32 bytes, low nibbles then high nibbles.
    public var qs: InlineArray<128, UInt8>

    /// The 6-bit scale and minimum of sub-block `index` (0..<8), packed as in ggml's
    /// `get_scale_min_k4`: bytes 0-3 hold scales 0-3 (low 6 bits) and the top 2 bits of scales
    /// 4-7; bytes 4-7 the same for the minimums; bytes 8-11 the low 4 bits of scale (low nibble)
    /// and minimum (high nibble) 4-7.
    @inlinable
    public static func scaleAndMin(_ index: Int, _ scales: InlineArray<12, UInt8>) -> (scale: UInt8, min: UInt8) {
        if index < 4 {
            return (scales[index] & 63, scales[index + 4] & 63)
        }
        let scale = scales[index + 4] & 0x0F | (scales[index - 4] >> 6) << 4
        let min = scales[index + 4] >> 4 | (scales[index] >> 6) << 4
        return (scale, min)
    }

    public func dequantize(into output: UnsafeMutablePointer<Float>) {
        let d = Float(f16Bits: self.d)
        let dmin = Float(f16Bits: self.dmin)
        for group in 0..<4 {  // 64 weights: sub-blocks 2·group and 2·group + 1
            let (scaleLow, minLow) = Self.scaleAndMin(2 * group, scales)
            let (scaleHigh, minHigh) = Self.scaleAndMin(2 * group + 1, scales)
            let d1 = d * Float(scaleLow), m1 = dmin * Float(minLow)
            let d2 = d * Float(scaleHigh), m2 = dmin * Float(minHigh)
            let out = output + 64 * group
            for l in 0..<32 {
                let q = qs[32 * group + l]
                out[l] = d1 * Float(q & 0x0F) - m1
                out[l + 32] = d2 * Float(q >> 4) - m2
            }
        }
    }
}
