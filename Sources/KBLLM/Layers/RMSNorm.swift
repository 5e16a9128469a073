/// Root-mean-square layer normalisation: `y = x / sqrt(mean(x²) + ε) · gain`.
enum RMSNorm {
    /// Normalises each of `rows` rows of `width` floats of `input` into `output` (may be `input`).
    /// The sum of squares is accumulated in `Double`, as ggml does.
    static func apply(
        _ input: UnsafePointer<Float>, rows: Int, width: Int, gain: [Float], epsilon: Float,
        into output: UnsafeMutablePointer<Float>
    ) {
        gain.withUnsafeBufferPointer { gain in
            for row in 0..<rows {
                let x = input + row * width, y = output + row * width
                var sum: Double = 0
                for i in 0..<width { sum += Double(x[i]) * Double(x[i]) }
                let scale = Float(1 / (sum / Double(width) + Double(epsilon)).squareRoot())
                for i in 0..<width { y[i] = x[i] * scale * gain[i] }
            }
        }
    }
}
