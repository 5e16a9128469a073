/// Whether a text is a search query or a stored passage. Some models embed the two differently
/// (multilingual-e5 prefixes `query: ` or `passage: `); others, like all-MiniLM-L6-v2, ignore it.
public enum EmbeddingKind: Sendable {
    case query
    case passage
}

/// A sentence-embedding model: texts in, L2-normalized vectors out.
///
/// Callers (ingest, search, `kb reembed`) depend only on this protocol, so another model can be
/// added beside ``MiniLMEmbedder`` without touching them. Store ``name`` and ``fingerprint`` with
/// every vector: vectors from different weights are not comparable. ``embed(_:kind:)`` may be
/// called from several threads at once.
public protocol Embedder: Sendable {
    /// A stable model name, e.g. `"all-minilm-l6-v2"`.
    var name: String { get }
    /// The length of every vector, e.g. 384.
    var dimensions: Int { get }
    /// The most tokens of one text the model reads, special tokens included; the rest is cut off.
    var maxTokens: Int { get }
    /// Lowercase hex SHA-256 identifying the weights that made a vector.
    var fingerprint: String { get }
    /// Embeds `texts`, one unit-length vector of ``dimensions`` floats per text, in order.
    ///
    /// - Throws: When the model cannot run (implementations document their errors).
    func embed(_ texts: [String], kind: EmbeddingKind) throws -> [[Float]]
}
