import Foundation
import XCTest
@testable import KBEmbedding

/// Holds every SIMD kernel of ``EncoderKernels`` to its scalar reference.
final class EncoderKernelsTests: XCTestCase {
    /// Deterministic pseudo-random floats in `range` (a linear congruential generator).
    static func values(_ count: Int, in range: ClosedRange<Float>, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let unit = Float(state >> 40) / Float(1 << 24)
            return range.lowerBound + unit * (range.upperBound - range.lowerBound)
        }
    }

    /// Row lengths: the model's (384, 1536), attention rows (1…256) and ragged tails.
    static let counts = [1, 2, 15, 16, 17, 31, 33, 100, 255, 256, 384, 1536]

    func assertClose(_ fast: [Float], _ reference: [Float], tolerance: Float, _ what: String, line: UInt = #line) {
        XCTAssertEqual(fast.count, reference.count, line: line)
        let worst = zip(fast, reference).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, tolerance, "\(what): worst difference \(worst)", line: line)
    }

    func testLayerNormMatchesReference() {
        for count in Self.counts {
            let input = Self.values(count, in: -6...6, seed: UInt64(count))
            let bias = Self.values(count, in: -1...1, seed: 7)
            let gamma = Self.values(count, in: 0.5...1.5, seed: 8)
            let beta = Self.values(count, in: -0.2...0.2, seed: 9)
            var fast = input, reference = input
            EncoderKernels.addBiasLayerNorm(&fast, bias: bias, gamma: gamma, beta: beta, count: count, epsilon: 1e-12)
            EncoderKernels.addBiasLayerNormReference(&reference, bias: bias, gamma: gamma, beta: beta, count: count, epsilon: 1e-12)
            assertClose(fast, reference, tolerance: 1e-5, "LayerNorm of \(count)")
        }
    }

    func testGELUMatchesReference() {
        for count in Self.counts {
            let input = Self.values(count, in: -8...8, seed: UInt64(count))
            let bias = Self.values(count, in: -0.5...0.5, seed: 3)
            var fast = input, reference = input
            EncoderKernels.addBiasGELU(&fast, bias: bias, count: count)
            EncoderKernels.addBiasGELUReference(&reference, bias: bias, count: count)
            assertClose(fast, reference, tolerance: 2e-6, "GELU of \(count)")
        }
    }

    func testErfApproximationIsAccurateEverywhere() {
        let x = (-60_000...60_000).map { Float($0) / 10_000 }  // [-6, 6] in steps of 1e-4
        var worst: Float = 0
        for start in stride(from: 0, to: x.count - 16, by: 16) {
            let v = SIMD16<Float>(x[start..<start + 16])
            let fast = EncoderKernels.erf(v)
            for lane in 0..<16 { worst = max(worst, abs(fast[lane] - Float(Foundation.erf(Double(v[lane]))))) }
        }
        XCTAssertLessThan(worst, 5e-7, "erf worst absolute error \(worst)")
        print("erf approximation: worst absolute error \(worst) on [-6, 6]")
    }

    func testExpApproximationIsAccurate() {
        let x = (-8_700...0).map { Float($0) / 100 }  // softmax only sees x - max ≤ 0
        var worst: Float = 0
        for start in stride(from: 0, to: x.count - 16, by: 16) {
            let v = SIMD16<Float>(x[start..<start + 16])
            let fast = EncoderKernels.exp(v)
            for lane in 0..<16 {
                let exact = Foundation.exp(Double(v[lane]))
                worst = max(worst, Float(abs(Double(fast[lane]) - exact) / exact))
            }
        }
        XCTAssertLessThan(worst, 2e-7, "exp worst relative error \(worst)")
        print("exp approximation: worst relative error \(worst) on [-87, 0]")
    }

    func testSoftmaxMatchesReference() {
        for count in Self.counts {
            let input = Self.values(count, in: -20...20, seed: UInt64(count) + 100)
            var fast = input, reference = input
            EncoderKernels.softmax(&fast, count: count)
            EncoderKernels.softmaxReference(&reference, count: count)
            assertClose(fast, reference, tolerance: 1e-6, "softmax of \(count)")
            XCTAssertEqual(fast.reduce(0, +), 1, accuracy: 1e-5)
        }
    }
}
