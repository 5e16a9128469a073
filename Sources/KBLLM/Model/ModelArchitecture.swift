/// A transformer architecture the engine runs (GGUF `general.architecture`).
///
/// Both are decoder-only transformers with RMSNorm, grouped-query attention with rotary position
/// embeddings and a SwiGLU feed-forward network; they differ in the RoPE pairing and in the
/// Q/K/V biases (read from the tensors that exist, not from the architecture name).
public enum ModelArchitecture: String, Sendable, CaseIterable {
    /// Llama and its descendants (SmolLM2). RoPE rotates adjacent pairs.
    case llama
    /// The Qwen2 / Qwen2.5 family. RoPE rotates the two halves of a head (NEOX style).
    case qwen2

    /// How rotary position embeddings pair the dimensions of a head (llama.cpp's rope type).
    public var ropeStyle: RopeStyle {
        switch self {
        case .llama: .adjacentPairs
        case .qwen2: .halves
        }
    }
}

/// Which dimensions of a head rotary position embeddings rotate together.
public enum RopeStyle: Sendable, Equatable {
    /// Dimensions `2i` and `2i+1` (llama.cpp `LLAMA_ROPE_TYPE_NORM`; the GGUF converter permutes
    /// Llama's Q and K weights so this matches the original model).
    case adjacentPairs
    /// Dimensions `i` and `i + d/2` (llama.cpp `LLAMA_ROPE_TYPE_NEOX`).
    case halves
}
