// Conversions from the 16-bit float formats of model files: GGUF tensors and block scales,
// safetensors tensors, the E5 file's block scales. The one Swift home of half-float decoding (the C
// kernels have their own, `kb_f16_to_f32` in CKBKernels/Internal.h, held to this by the kernel tests).
//
// Written out by hand rather than through `Float16`, which Swift does not offer on Intel macOS;
// both conversions are exact (every f16 and bf16 value is a `Float`).

extension Float {
    /// The value of IEEE 754 half-precision bits (`ggml_fp16_t`): exact, including subnormals,
    /// infinities and NaNs.
    @inlinable
    public init(f16Bits bits: UInt16) {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F  // biased by 15
        let mantissa = UInt32(bits) & 0x3FF  // 10 bits
        switch exponent {
        case 0x1F:  // infinity or NaN: keep the payload
            self.init(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        case 0 where mantissa == 0:  // signed zero
            self.init(bitPattern: sign)
        case 0:  // subnormal: mantissa × 2^-24, exact in Float
            let magnitude = Float(mantissa) * 0x1p-24
            self = sign == 0 ? magnitude : -magnitude
        default:  // normal: rebias the exponent from 15 to 127
            self.init(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
        }
    }

    /// The value of bfloat16 bits (`ggml_bf16_t`): the top half of a `Float`.
    @inlinable
    public init(bf16Bits bits: UInt16) {
        self.init(bitPattern: UInt32(bits) << 16)
    }
}
