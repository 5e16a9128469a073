import Foundation
import KBEmbedding

/// A deterministic stand-in for a sentence-embedding model: each lowercased word adds ±1 to a few
/// hashed dimensions, then the vector is normalized. Texts sharing words are close; it runs in
/// microseconds, so search and ingest logic can be tested without the real model.
public struct HashingEmbedder: Embedder {
    public let name: String
    public let dimensions: Int
    public let maxTokens = 256
    public let fingerprint: String

    public init(name: String = "hashing-test", dimensions: Int = 64, fingerprint: String = "test-fingerprint") {
        self.name = name
        self.dimensions = dimensions
        self.fingerprint = fingerprint
    }

    public func embed(_ texts: [String], kind: EmbeddingKind) throws -> [[Float]] {
        texts.map { text in
            var v = [Float](repeating: 0, count: dimensions)
            for word in text.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }) {
                var h: UInt64 = 1469598103934665603
                for b in word.utf8 { h = (h ^ UInt64(b)) &* 1099511628211 }
                for k in 0..<3 {
                    let slot = Int((h >> (UInt64(k) * 16)) % UInt64(dimensions))
                    v[slot] += (h >> (48 + UInt64(k))) & 1 == 0 ? 1 : -1
                }
            }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return norm > 0 ? v.map { $0 / norm } : v.enumerated().map { $0.offset == 0 ? 1 : 0 }
        }
    }
}
