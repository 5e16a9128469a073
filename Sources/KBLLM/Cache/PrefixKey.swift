/// The identity of a token prefix that ends on a block boundary: a 128-bit hash chained block
/// by block, so a block's key covers every token before it as well as its own.
///
/// `key(block k) = mix(key(block k-1), tokens of block k)`. Two 64-bit lanes with different
/// seeds make an accidental collision (about 2⁻¹²⁸ per pair) negligible; ``KVBlockPool`` also
/// checks the block's own tokens and its parent's key on every lookup.
public struct PrefixKey: Hashable, Sendable {
    let high: UInt64
    let low: UInt64

    /// The key of the empty prefix.
    public static let empty = PrefixKey(high: 0x6A09_E667_F3BC_C908, low: 0xBB67_AE85_84CA_A73B)

    /// The key of this prefix followed by `tokens`.
    public func appending(_ tokens: ArraySlice<Int32>) -> PrefixKey {
        var a = high, b = low
        for token in tokens {
            let t = UInt64(UInt32(bitPattern: token))
            a = Self.mix(a ^ t &* 0x9E37_79B9_7F4A_7C15)
            b = Self.mix(b &+ (t | 0x1_0000_0000) &* 0xC2B2_AE3D_27D4_EB4F)
        }
        a = Self.mix(a ^ UInt64(tokens.count))
        b = Self.mix(b ^ (UInt64(tokens.count) << 32))
        return PrefixKey(high: a, low: b)
    }

    /// SplitMix64's finaliser: a bijection that spreads every input bit over the output.
    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
