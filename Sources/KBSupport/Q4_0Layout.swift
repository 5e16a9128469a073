/// ggml's Q4_0 block, the one statement of its layout in Swift (GGUF `block_q4_0` in KBLLM, and the
/// weight blocks of multilingual-e5's `E5S1` file in KBEmbedding, which use the same layout; the C
/// kernels' `kb_block_q4_0` mirrors it and a test holds the two together).
///
/// 32 weights share one half-float scale `d`; byte `j` of the 16 packed bytes holds weight `j` in
/// its low nibble and weight `j + 16` in its high nibble, each stored as `q + 8` with `q` in −8…7.
/// Weight = `q · d`.
///
/// ```
/// offset 0  u16 d (IEEE half, little-endian)
/// offset 2  u8 nibbles[16]
/// ```
public enum Q4_0Layout {
    /// Weights per block.
    public static let weightsPerBlock = 32
    /// Bytes per block.
    public static let byteCount = 18

    /// The 32 weights of the block at `block` (18 bytes, any alignment).
    @inlinable
    public static func dequantize(block: UnsafeRawPointer, into output: UnsafeMutablePointer<Float>) {
        let scale = Float(f16Bits: UInt16(littleEndian: block.loadUnaligned(as: UInt16.self)))
        for j in 0..<16 {
            let byte = block.load(fromByteOffset: 2 + j, as: UInt8.self)
            output[j] = Float(Int(byte & 0x0F) - 8) * scale
            output[j + 16] = Float(Int(byte >> 4) - 8) * scale
        }
    }

    /// Dequantizes `count` weights (a multiple of 32) from consecutive blocks at `blocks`.
    /// - Parameter output: `[count]` floats.
    @inlinable
    public static func dequantize(blocks: UnsafeRawPointer, count: Int, into output: UnsafeMutablePointer<Float>) {
        precondition(count % weightsPerBlock == 0, "Q4_0 rows hold whole blocks")
        for block in 0..<(count / weightsPerBlock) {
            dequantize(block: blocks + block * byteCount, into: output + block * weightsPerBlock)
        }
    }
}
