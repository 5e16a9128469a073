import KBSupport

/// ggml `block_q5_K`: a super-block of 256 weights in 8 sub-blocks of 32 with 6-bit scales and
/// minimums, like ``BlockQ4K`` plus a fifth bit per weight; 176 bytes (5.5 bits per weight).
///
/// Weight `l` of sub-block `s` is `d·sc[s] × q − dmin·m[s]`, where `q`'s low four bits are the
/// nibbles of ``BlockQ4K`` and its fifth bit is bit `s` of `qh[l]`.
public struct BlockQ5K: QuantizedBlock {
    public static let tensorType = TensorType.q5K

    /// The super-block scale of the sub-block scales, f16 bits.
    public var d: UInt16
    /// The super-block scale of the sub-block minimums, f16 bits.
    public var dmin: UInt16
    /// Eight 6-bit scales and minimums, packed as in ``BlockQ4K/scaleAndMin(_:_:)``.
    public var scales: InlineArray<12, UInt8>
    /// The fifth bits: bit `s` of byte `l` belongs to weight `l` of sub-block `s`.
    public var qh: InlineArray<32, UInt8>
    /// The low four bits: four groups of 32 bytes, low nibbles then high nibbles.
    public var qs: InlineArray<128, UInt8>

    public func dequantize(into output: UnsafeMutablePointer<Float>) {
        let d = Float(f16Bits: self.d)
        let dmin = Float(f16Bits: self.dmin)
        for group in 0..<4 {  // 64 weights: sub-blocks 2·group and 2·group + 1
            let (scaleLow, minLow) = BlockQ4K.scaleAndMin(2 * group, scales)
            let (scaleHigh, minHigh) = BlockQ4K.scaleAndMin(2 * group + 1, scales)
            let d1 = d * Float(scaleLow), m1 = dmin * Float(minLow)
            let d2 = d * Float(scaleHigh), m2 = dmin * Float(minHigh)
            let out = output + 64 * group
            for l in 0..<32 {
                let q = qs[32 * group + l]
                let highLow = (qh[l] >> UInt8(2 * group)) & 1
                let highHigh = (qh[l] >> UInt8(2 * group + 1)) & 1
                out[l] = d1 * Float(q & 0x0F | highLow << 4) - m1
                out[l + 32] = d2 * Float(q >> 4 | highHigh << 4) - m2
            }
        }
    }
}
