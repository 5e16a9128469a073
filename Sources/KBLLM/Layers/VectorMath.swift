import CKBKernels
import Foundation

/// Small element-wise operations of the forward pass.
enum VectorMath {
    /// `a[i] += b[i]` for `i` in `0..<count`.
    static func add(_ b: UnsafePointer<Float>, into a: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { a[i] += b[i] }
    }

    /// Adds `bias` (`width` floats) to each of `rows` rows of `x`.
    static func addBias(_ bias: [Float], to x: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        bias.withUnsafeBufferPointer { bias in
            for row in 0..<rows {
                let r = x + row * width
                for i in 0..<width { r[i] += bias[i] }
            }
        }
    }

    /// SwiGLU over `rows` rows of `width`: `gate[i] = silu(gate[i]) · up[i]` where
    /// `silu(x) = x / (1 + e^-x)`, with e^x rounded as llama.cpp rounds it (`kb_swiglu`), row by
    /// row as ggml applies it.
    static func swiGLU(gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, rows: Int, width: Int) {
        for row in 0..<rows {
            kb_swiglu(gate + row * width, up + row * width, Int64(width), KernelSet.automatic.isa)
        }
    }

    /// `Σ a[i]·b[i]` over `count` floats, in eight lanes when `count` is a multiple of 8.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var i = 0
        var lanes = SIMD8<Float>()
        if count >= 8 {
            let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
            while i + 8 <= count {
                let va = ra.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
                let vb = rb.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
                lanes.addProduct(va, vb)
                i += 8
            }
        }
        var sum = lanes.sum()
        while i < count {
            sum += a[i] * b[i]
            i += 1
        }
        return sum
    }

    /// `y[i] += s · x[i]` over `count` floats.
    @inline(__always)
    static func addScaled(_ x: UnsafePointer<Float>, _ s: Float, into y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] += s * x[i] }
    }
}
