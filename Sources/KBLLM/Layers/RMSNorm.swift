/// Root-mean-square layer normalisation: `y = x / sqrt(mean(x²) + ε) · gain`.
enum RMSNorm {
    /// Normalises each of `rows` rows of `width` floats of `input` into `output` (may be `input`).
    ///
    /// Rounded as ggml's CPU `rms_norm` rounds, so that activations quantized afterwards round
    /// to the same int8 values as llama.cpp's: each square in float, summed in `Double`; the
    /// mean rounded to float; `1 / sqrt(mean + ε)` in float; then `(x · scale) · gain`.
    static func apply(
        _ input: UnsafePointer<Float>, rows: Int, width: Int, gain: [Float], epsilon: Float,
        into output: UnsafeMutablePointer<Float>
    ) {
        gain.withUnsafeBufferPointer { gain in
            for row in 0..<rows {
                let x = input + row * width, y = output + row * width
                var sum: Double = 0
                for i in 0..<width { sum += Double(x[i] * x[i]) }
                let mean = Float(sum / Double(width))
                let scale = 1 / (mean + epsilon).squareRoot()
                for i in 0..<width { y[i] = x[i] * scale * gain[i] }
            }
        }
    }
}
