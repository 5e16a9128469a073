import Foundation

/// The element-wise kernels of the BERT encoder: bias + LayerNorm, bias + GELU, softmax.
///
/// Each has a plain scalar `…Reference` version (the specification, using libm `erf`/`exp`) and a
/// `SIMD16<Float>` version that the encoder runs; `EncoderKernelsTests` holds them together. They
/// are hand-written because GELU runs on 9,216 values per token (1,536 per layer) and softmax on
/// 72·L values per token of an L-token text: one libm call per value would cost about as much as
/// all the matrix products. (Measured: with the standard library's lane-by-lane `pointwiseMax`
/// and `clamped` instead of compare-and-blend, softmax and GELU took half the encoder's time.)
///
/// Pointers are rows of `count` floats; nothing needs to be aligned. Build with
/// `-Xswiftc -target-cpu -Xswiftc native` (or `haswell`): without it the fused multiply-adds
/// become library calls.
enum EncoderKernels {
    typealias Vector = SIMD16<Float>

    // MARK: - LayerNorm

    /// `row = LayerNorm(row + bias) * gamma + beta`, the statistics taken over the row.
    static func addBiasLayerNorm(
        _ row: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
        beta: UnsafePointer<Float>, count: Int, epsilon: Float
    ) {
        var sum = Vector(), i = 0
        while i + 16 <= count {
            let x = load(row + i) + load(bias + i)
            store(x, row + i)
            sum += x
            i += 16
        }
        var total = horizontalSum(sum)
        while i < count { row[i] += bias[i]; total += row[i]; i += 1 }
        let mean = total / Float(count)
        var squares = Vector()
        i = 0
        while i + 16 <= count {
            let d = load(row + i) - mean
            squares.addProduct(d, d)
            i += 16
        }
        var variance = horizontalSum(squares)
        while i < count { let d = row[i] - mean; variance += d * d; i += 1 }
        let inverse = 1 / (variance / Float(count) + epsilon).squareRoot()
        i = 0
        while i + 16 <= count {
            let normalized = (load(row + i) - mean) * inverse
            store(load(beta + i).addingProduct(normalized, load(gamma + i)), row + i)
            i += 16
        }
        while i < count { row[i] = (row[i] - mean) * inverse * gamma[i] + beta[i]; i += 1 }
    }

    /// Scalar specification of ``addBiasLayerNorm(_:bias:gamma:beta:count:epsilon:)``.
    static func addBiasLayerNormReference(
        _ row: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
        beta: UnsafePointer<Float>, count: Int, epsilon: Float
    ) {
        for i in 0..<count { row[i] += bias[i] }
        var mean: Float = 0
        for i in 0..<count { mean += row[i] }
        mean /= Float(count)
        var variance: Float = 0
        for i in 0..<count { variance += (row[i] - mean) * (row[i] - mean) }
        variance /= Float(count)
        let inverse = 1 / (variance + epsilon).squareRoot()
        for i in 0..<count { row[i] = (row[i] - mean) * inverse * gamma[i] + beta[i] }
    }

    // MARK: - GELU

    /// `row = GELU(row + bias)` with the exact (erf) GELU: `x/2 · (1 + erf(x/√2))`.
    static func addBiasGELU(_ row: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, count: Int) {
        var i = 0
        while i + 16 <= count {
            store(gelu(load(row + i) + load(bias + i)), row + i)
            i += 16
        }
        if i < count {  // the tail through the same vector code, so every element sees one formula
            var x = Vector()
            for j in i..<count { x[j - i] = row[j] + bias[j] }
            let y = gelu(x)
            for j in i..<count { row[j] = y[j - i] }
        }
    }

    /// Scalar specification of ``addBiasGELU(_:bias:count:)``, with libm `erf`.
    static func addBiasGELUReference(_ row: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, count: Int) {
        for i in 0..<count {
            let x = row[i] + bias[i]
            row[i] = 0.5 * x * (1 + Foundation.erf(x * Float(0.5).squareRoot()))
        }
    }

    @inline(__always)
    static func gelu(_ x: Vector) -> Vector {
        0.5 * x * (1 + erf(x * 0.70710678118654752))
    }

    /// erf for single precision as a rational function of x on [-4, 4] (beyond which erf is ±1
    /// in Float): `x·P(x²) / Q(x²)`. The coefficients are the minimax fit used by Eigen and XLA;
    /// the absolute error is below 4e-7 (3 ULP of 1; EncoderKernelsTests measures it).
    @inline(__always)
    static func erf(_ input: Vector) -> Vector {
        let x = clamp(input, -4, 4)
        let x2 = x * x
        var p = Vector(repeating: 2.77068142495902e-08).addingProduct(x2, Vector(repeating: -2.72614225801306e-10))
        p = Vector(repeating: -2.10102402082508e-06).addingProduct(x2, p)
        p = Vector(repeating: -5.69250639462346e-05).addingProduct(x2, p)
        p = Vector(repeating: -7.34990630326855e-04).addingProduct(x2, p)
        p = Vector(repeating: -2.95459980854025e-03).addingProduct(x2, p)
        p = Vector(repeating: -1.60960333262415e-02).addingProduct(x2, p)
        var q = Vector(repeating: -2.13374055278905e-04).addingProduct(x2, Vector(repeating: -1.45660718464996e-05))
        q = Vector(repeating: -1.68282697438203e-03).addingProduct(x2, q)
        q = Vector(repeating: -7.37332916720468e-03).addingProduct(x2, q)
        q = Vector(repeating: -1.42647390514189e-02).addingProduct(x2, q)
        return x * p / q
    }

    // MARK: - Softmax

    /// `row = softmax(row)`: `exp(x - max) / Σ exp(x - max)`.
    static func softmax(_ row: UnsafeMutablePointer<Float>, count: Int) {
        var maxima = Vector(repeating: -.infinity), i = 0
        while i + 16 <= count { maxima = maximum(maxima, load(row + i)); i += 16 }
        var largest = maxima.max()
        while i < count { largest = Swift.max(largest, row[i]); i += 1 }
        var sums = Vector()
        i = 0
        while i + 16 <= count {
            let e = exp(load(row + i) - largest)
            store(e, row + i)
            sums += e
            i += 16
        }
        var total = horizontalSum(sums)
        if i < count {
            var x = Vector(repeating: -.infinity)
            for j in i..<count { x[j - i] = row[j] - largest }
            let e = exp(x)
            for j in i..<count { row[j] = e[j - i]; total += e[j - i] }
        }
        let scale = 1 / total
        i = 0
        while i + 16 <= count { store(load(row + i) * scale, row + i); i += 16 }
        while i < count { row[i] *= scale; i += 1 }
    }

    /// Scalar specification of ``softmax(_:count:)``, with libm `exp`.
    static func softmaxReference(_ row: UnsafeMutablePointer<Float>, count: Int) {
        var maximum = -Float.infinity
        for i in 0..<count { maximum = Swift.max(maximum, row[i]) }
        var total: Float = 0
        for i in 0..<count { row[i] = Foundation.exp(row[i] - maximum); total += row[i] }
        for i in 0..<count { row[i] /= total }
    }

    /// e^x for x ≤ 88: x = n·ln2 + r with |r| ≤ ln2/2, e^r by the Cephes `expf` polynomial, 2^n
    /// put straight into the exponent bits: relative error about 1 ULP. Inputs below -87 give
    /// about 1e-38 (not 0).
    @inline(__always)
    static func exp(_ input: Vector) -> Vector {
        let x = clamp(input, -87, 88)
        // Adding 1.5·2^23 + 127 rounds x·log2(e) to an integer n held in the low mantissa bits,
        // already biased by 127: shifting those bits into the exponent field gives 2^n.
        let shifter = Vector(repeating: 12_582_912 + 127)
        let shifted = shifter.addingProduct(x, Vector(repeating: 1.44269504088896341))
        let n = shifted - shifter
        var r = x.addingProduct(n, Vector(repeating: -0.693359375))
        r = r.addingProduct(n, Vector(repeating: 2.12194440e-4))
        var p = Vector(repeating: 1.3981999507e-3).addingProduct(r, Vector(repeating: 1.9875691500e-4))
        p = Vector(repeating: 8.3334519073e-3).addingProduct(r, p)
        p = Vector(repeating: 4.1665795894e-2).addingProduct(r, p)
        p = Vector(repeating: 1.6666665459e-1).addingProduct(r, p)
        p = Vector(repeating: 5.0000001201e-1).addingProduct(r, p)
        let er = (r + 1).addingProduct(r * r, p)
        let bits = unsafeBitCast(shifted, to: SIMD16<UInt32>.self) &<< 23
        return er * unsafeBitCast(bits, to: Vector.self)
    }

    // MARK: - Helpers

    @inline(__always)
    static func load(_ pointer: UnsafePointer<Float>) -> Vector {
        UnsafeRawPointer(pointer).loadUnaligned(as: Vector.self)
    }

    @inline(__always)
    static func load(_ pointer: UnsafeMutablePointer<Float>) -> Vector {
        UnsafeRawPointer(pointer).loadUnaligned(as: Vector.self)
    }

    @inline(__always)
    static func store(_ value: Vector, _ pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: Vector.self)
    }

    /// Lane-wise max as a compare and blend. The standard library's `pointwiseMax` and `clamped`
    /// compare lane by lane in scalar code (measured: softmax spent most of its time there).
    @inline(__always)
    static func maximum(_ a: Vector, _ b: Vector) -> Vector {
        a.replacing(with: b, where: a .< b)
    }

    /// `x` limited to `[lower, upper]`, lane by lane (NaN stays NaN).
    @inline(__always)
    static func clamp(_ x: Vector, _ lower: Float, _ upper: Float) -> Vector {
        x.replacing(with: lower, where: x .< lower).replacing(with: upper, where: x .> upper)
    }

    /// Pairwise halving: faster than `.sum()`, which adds lanes one by one.
    @inline(__always)
    static func horizontalSum(_ v: Vector) -> Float {
        let v8 = v.lowHalf + v.highHalf
        let v4 = v8.lowHalf + v8.highHalf
        let v2 = v4.lowHalf + v4.highHalf
        return v2[0] + v2[1]
    }
}
