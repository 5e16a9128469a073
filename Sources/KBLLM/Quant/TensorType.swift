/// The element types of ggml tensors, with ggml's type ids (`enum ggml_type`).
///
/// Quantized types store weights in fixed-size blocks along a row (a `q4K` row of 4,864 weights
/// is 19 blocks of 256 weights, 144 bytes each), so a row length must be a multiple of
/// ``blockSize``; quantizers fall back to a smaller block for rows that are not (Qwen2-0.5B's
/// 896-wide rows use Q5_0 and Q8_0 inside a Q4_K_M file).
/// Every id ggml has assigned is listed so that a file holding, say, IQ quants still opens
/// (its tensor sizes can be computed); ``canDequantize`` says which ones kb can decode.
public enum TensorType: UInt32, Sendable, CaseIterable {
    case f32 = 0, f16 = 1
    case q4_0 = 2, q4_1 = 3
    // 4 and 5 were Q4_2 and Q4_3, removed from ggml.
    case q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9
    case q2K = 10, q3K = 11, q4K = 12, q5K = 13, q6K = 14, q8K = 15
    case iq2XXS = 16, iq2XS = 17, iq3XXS = 18, iq1S = 19, iq4NL = 20, iq3S = 21, iq2S = 22, iq4XS = 23
    case i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28
    case iq1M = 29, bf16 = 30
    // 31-33 were Q4_0_4_4, Q4_0_4_8 and Q4_0_8_8, removed from ggml.
    case tq1_0 = 34, tq2_0 = 35
    // 36-38 were IQ4_NL_4_4, IQ4_NL_4_8 and IQ4_NL_8_8, removed from ggml.
    case mxfp4 = 39, nvfp4 = 40, q1_0 = 41

    /// The number of weights in a super-block of the K-quants (`QK_K`).
    public static let superBlockSize = 256

    /// ggml's name for the type, as tools print it: `"Q4_K"`, `"F32"`.
    public var name: String {
        switch self {
        case .f32: "F32"
        case .f16: "F16"
        case .q4_0: "Q4_0"
        case .q4_1: "Q4_1"
        case .q5_0: "Q5_0"
        case .q5_1: "Q5_1"
        case .q8_0: "Q8_0"
        case .q8_1: "Q8_1"
        case .q2K: "Q2_K"
        case .q3K: "Q3_K"
        case .q4K: "Q4_K"
        case .q5K: "Q5_K"
        case .q6K: "Q6_K"
        case .q8K: "Q8_K"
        case .iq2XXS: "IQ2_XXS"
        case .iq2XS: "IQ2_XS"
        case .iq3XXS: "IQ3_XXS"
        case .iq1S: "IQ1_S"
        case .iq4NL: "IQ4_NL"
        case .iq3S: "IQ3_S"
        case .iq2S: "IQ2_S"
        case .iq4XS: "IQ4_XS"
        case .i8: "I8"
        case .i16: "I16"
        case .i32: "I32"
        case .i64: "I64"
        case .f64: "F64"
        case .iq1M: "IQ1_M"
        case .bf16: "BF16"
        case .tq1_0: "TQ1_0"
        case .tq2_0: "TQ2_0"
        case .mxfp4: "MXFP4"
        case .nvfp4: "NVFP4"
        case .q1_0: "Q1_0"
        }
    }

    /// Weights per block (1 for plain number types).
    public var blockSize: Int { layout.weights }

    /// Bytes per block.
    public var bytesPerBlock: Int { layout.bytes }

    /// Whether a row must be cut into blocks: every type but the plain number types.
    public var isQuantized: Bool { blockSize > 1 }

    /// Whether kb can dequantize this type (see ``Dequantize``).
    public var canDequantize: Bool {
        switch self {
        case .f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4K, .q5K, .q6K: true
        default: false
        }
    }

    /// The bytes of a row of `count` weights, or `nil` if `count` is not a whole number of blocks
    /// (or the size overflows).
    public func rowByteCount(_ count: Int) -> Int? {
        guard count >= 0, count % blockSize == 0 else { return nil }
        let bytes = (count / blockSize).multipliedReportingOverflow(by: bytesPerBlock)
        return bytes.overflow ? nil : bytes.partialValue
    }

    /// (weights, bytes) per block, from ggml's type traits (`QK_K` = 256).
    private var layout: (weights: Int, bytes: Int) {
        let qk = Self.superBlockSize
        switch self {
        case .f32: return (1, 4)
        case .f16: return (1, 2)
        case .bf16: return (1, 2)
        case .f64: return (1, 8)
        case .i8: return (1, 1)
        case .i16: return (1, 2)
        case .i32: return (1, 4)
        case .i64: return (1, 8)
        case .q4_0: return (32, 2 + 16)
        case .q4_1: return (32, 2 + 2 + 16)
        case .q5_0: return (32, 2 + 4 + 16)
        case .q5_1: return (32, 2 + 2 + 4 + 16)
        case .q8_0: return (32, 2 + 32)
        case .q8_1: return (32, 4 + 4 + 32)
        case .q2K: return (qk, 2 + 2 + qk / 16 + qk / 4)
        case .q3K: return (qk, 2 + qk / 4 + qk / 8 + 12)
        case .q4K: return (qk, 2 + 2 + 12 + qk / 2)
        case .q5K: return (qk, 2 + 2 + 12 + qk / 8 + qk / 2)
        case .q6K: return (qk, qk / 2 + qk / 4 + qk / 16 + 2)
        case .q8K: return (qk, 4 + qk + qk / 8)
        case .iq2XXS: return (qk, 2 + qk / 4)
        case .iq2XS: return (qk, 2 + qk / 4 + qk / 32)
        case .iq3XXS: return (qk, 2 + qk / 4 + qk / 8)
        case .iq1S: return (qk, 2 + qk / 8 + qk / 16)
        case .iq4NL: return (32, 2 + 16)
        case .iq3S: return (qk, 2 + qk / 4 + qk / 8 + qk / 32 + 4)
        case .iq2S: return (qk, 2 + qk / 4 + qk / 16)
        case .iq4XS: return (qk, 2 + 2 + qk / 2 + qk / 64)
        case .iq1M: return (qk, qk / 8 + qk / 16 + qk / 32)
        case .tq1_0: return (qk, 2 + 4 * 13)
        case .tq2_0: return (qk, 2 + 64)
        case .mxfp4: return (32, 1 + 16)
        case .nvfp4: return (64, 4 + 32)
        case .q1_0: return (128, 2 + 16)
        }
    }
}

extension TensorType: CustomStringConvertible {
    public var description: String { name }
}
