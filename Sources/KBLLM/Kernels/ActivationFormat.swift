import CKBKernels

/// The form in which a weight type's kernel reads the input of a matrix product.
///
/// Integer kernels multiply weight quants by activations quantized to int8 once per product:
/// the 32-weight types (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0) by blocks of 32 with a float scale and the
/// quants' sum (`kb_q8_block`, 40 bytes), the K-quants (Q4_K, Q5_K, Q6_K) by blocks of 256 with a
/// float scale and 16 sums of 16 (`kb_q8k_block`, 292 bytes). Float weights read floats.
public enum ActivationFormat: Sendable, Hashable {
    /// Plain floats (F32, F16 and BF16 weights).
    case float
    /// Blocks of 32 int8 (`kb_q8_block`).
    case q8
    /// Blocks of 256 int8 (`kb_q8k_block`).
    case q8K

    /// The format that weights of `type` multiply against.
    public init(weights type: TensorType) {
        switch type {
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0: self = .q8
        case .q4K, .q5K, .q6K: self = .q8K
        default: self = .float
        }
    }

    /// Activations per block (1 for floats).
    public var blockSize: Int {
        switch self {
        case .float: 1
        case .q8: 32
        case .q8K: 256
        }
    }

    /// Bytes per block.
    public var bytesPerBlock: Int {
        switch self {
        case .float: MemoryLayout<Float>.size
        case .q8: MemoryLayout<kb_q8_block>.size
        case .q8K: MemoryLayout<kb_q8k_block>.size
        }
    }

    /// The bytes of one row of `count` activations (`count` a multiple of ``blockSize``).
    public func rowByteCount(_ count: Int) -> Int { count / blockSize * bytesPerBlock }
}
