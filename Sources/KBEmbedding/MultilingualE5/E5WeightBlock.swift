import KBSupport

/// The 4-bit weight blocks of an `E5S1` file (the same layout as GGML's `Q4_0`): 32 weights share
/// one float16 scale `d`; byte `j` of the 16 packed bytes holds weight `j` in its low nibble and
/// weight `j + 16` in its high nibble, each stored as `q + 8` with `q` in -8…7. Weight = `q · d`.
///
/// ```
/// offset 0  u16 d (IEEE half, little-endian)
/// offset 2  u8 nibbles[16]
/// ```
enum E5WeightBlock {
    static let weightsPerBlock = 32
    static let byteCount = 18

    /// Dequantizes `count` weights (a multiple of 32) from consecutive blocks at `blocks`.
    /// - Parameter output: `[count]` floats.
    static func dequantize(_ blocks: UnsafeRawPointer, count: Int, into output: UnsafeMutablePointer<Float>) {
        precondition(count % weightsPerBlock == 0, "Q4_0 rows hold whole blocks")
        for block in 0..<(count / weightsPerBlock) {
            let base = blocks + block * byteCount
            let scale = Float(f16Bits: UInt16(littleEndian: base.loadUnaligned(as: UInt16.self)))
            let out = output + block * weightsPerBlock
            for j in 0..<16 {
                let byte = base.load(fromByteOffset: 2 + j, as: UInt8.self)
                out[j] = Float(Int(byte & 0x0F) - 8) * scale
                out[j + 16] = Float(Int(byte >> 4) - 8) * scale
            }
        }
    }
}
