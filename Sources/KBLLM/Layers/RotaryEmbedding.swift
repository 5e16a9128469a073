import Foundation

/// Rotary position embeddings (RoPE): rotates pairs of a head's dimensions by angles that grow
/// with the token's position, `θᵢ = position · base^(-2i/d)` for pair `i` of the `d` rotated dims.
struct RotaryEmbedding: Sendable {
    /// The rotated dimensions per head (the rest pass through).
    let dimension: Int
    /// The width of a head.
    let headDimension: Int
    /// Which dimensions form a pair.
    let style: RopeStyle
    /// `base^(-2i/d)` for each pair `i`: `dimension / 2` values.
    let inverseFrequencies: [Double]

    init(hyper: ModelHyperparameters) {
        dimension = hyper.ropeDimension
        headDimension = hyper.headDimension
        style = hyper.ropeStyle
        let base = Double(hyper.ropeFrequencyBase), d = Double(hyper.ropeDimension)
        inverseFrequencies = (0..<hyper.ropeDimension / 2).map { pow(base, -2 * Double($0) / d) }
    }

    /// Rotates `heads` consecutive heads of `x` (`heads × headDimension` floats) for `position`.
    func apply(_ x: UnsafeMutablePointer<Float>, heads: Int, position: Int) {
        let pairs = dimension / 2
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * pairs) { table in
            for i in 0..<pairs {
                let angle = Double(position) * inverseFrequencies[i]
                table[2 * i] = Float(cos(angle))
                table[2 * i + 1] = Float(sin(angle))
            }
            for head in 0..<heads {
                let h = x + head * headDimension
                for i in 0..<pairs {
                    let (a, b) = style == .adjacentPairs ? (2 * i, 2 * i + 1) : (i, i + pairs)
                    let cosine = table[2 * i], sine = table[2 * i + 1]
                    let x0 = h[a], x1 = h[b]
                    h[a] = x0 * cosine - x1 * sine
                    h[b] = x0 * sine + x1 * cosine
                }
            }
        }
    }
}
