import CKBKernels

/// How the KV cache stores keys and values.
public enum KVCachePrecision: Sendable, Equatable {
    /// IEEE half floats (rounded to nearest even), as llama.cpp's default cache: half the memory
    /// of `.f32` in sessions and the prefix cache.
    case f16
    /// Floats: the exact arithmetic the reference tests hold the forward pass to.
    case f32

    /// Bytes per stored element.
    public var elementByteCount: Int { self == .f16 ? 2 : 4 }

    /// The ggml type id the kernels take (`KB_TYPE_F16` / `KB_TYPE_F32`).
    var kernelType: Int32 { self == .f16 ? Int32(KB_TYPE_F16) : Int32(KB_TYPE_F32) }
}
