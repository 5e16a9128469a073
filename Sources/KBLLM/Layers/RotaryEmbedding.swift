import Foundation

/// Rotary position embeddings (RoPE): rotates pairs of a head's dimensions by angles that grow
/// with the token's position, `θᵢ = position · base^(-2i/d)` for pair `i` of the `d` rotated dims.
///
/// The angles are rounded as ggml's CPU `rope` rounds them, so that keys and queries match
/// llama.cpp's to the bit: in float, `θ₀ = position` and `θᵢ₊₁ = θᵢ · base^(-2/d)` (the factor
/// from `powf`), then `cosf`/`sinf` of each; each rotated value is one product plus one fused
/// multiply-add, as llama.cpp's build (GCC, FMA contraction) computes it. (Exact angles differ
/// from these by a few ulp, which is enough to move F16-rounded keys and int8-rounded activations.)
struct RotaryEmbedding: Sendable {
    /// The rotated dimensions per head (the rest pass through).
    let dimension: Int
    /// The width of a head.
    let headDimension: Int
    /// Which dimensions form a pair.
    let style: RopeStyle
    /// `base^(-2/d)` in float: the ratio of consecutive pairs' angles.
    let angleRatio: Float

    init(hyper: ModelHyperparameters) {
        dimension = hyper.ropeDimension
        headDimension = hyper.headDimension
        style = hyper.ropeStyle
        angleRatio = powf(hyper.ropeFrequencyBase, -2 / Float(hyper.ropeDimension))
    }

    /// `(cos θᵢ, sin θᵢ)` of every pair at positions `start..<start + rows`, interleaved:
    /// `rows × dimension` floats, the same for every layer and for queries and keys.
    func angles(start: Int, rows: Int) -> [Float] {
        var table = [Float](repeating: 0, count: rows * dimension)
        for row in 0..<rows {
            var theta = Float(start + row)
            for i in 0..<dimension / 2 {
                table[row * dimension + 2 * i] = cosf(theta)
                table[row * dimension + 2 * i + 1] = sinf(theta)
                theta *= angleRatio
            }
        }
        return table
    }

    /// Rotates `heads` consecutive heads of `x` (`heads × headDimension` floats) by one row of
    /// ``angles(start:rows:)`` (`dimension` floats).
    func apply(_ x: UnsafeMutablePointer<Float>, heads: Int, angles table: UnsafePointer<Float>) {
        let pairs = dimension / 2
        for head in 0..<heads {
            let h = x + head * headDimension
            for i in 0..<pairs {
                let (a, b) = style == .adjacentPairs ? (2 * i, 2 * i + 1) : (i, i + pairs)
                let cosine = table[2 * i], sine = table[2 * i + 1]
                let x0 = h[a], x1 = h[b]
                // Fused as GCC contracts ggml's `x0*cos - x1*sin` and `x0*sin + x1*cos`.
                h[a] = (-(x1 * sine)).addingProduct(x0, cosine)
                h[b] = (x1 * cosine).addingProduct(x0, sine)
            }
        }
    }
}
