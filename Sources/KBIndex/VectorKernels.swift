/// Dot products used by the index. Each fast kernel has a plain scalar reference beside it;
/// `VectorKernelTests` holds them together.
enum VectorKernels {
    // MARK: float32

    /// Reference: Σ a[i]·b[i] in order.
    static func dotReference(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
        var sum: Float = 0
        for i in 0..<count { sum += a[i] * b[i] }
        return sum
    }

    /// 16-wide SIMD with four accumulators (needs `-target-cpu` to become FMA instructions).
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
        var s0 = SIMD16<Float>(), s1 = SIMD16<Float>()
        var i = 0
        let rawA = UnsafeRawPointer(a), rawB = UnsafeRawPointer(b)
        while i + 32 <= count {
            s0 += rawA.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
                * rawB.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            s1 += rawA.loadUnaligned(fromByteOffset: (i + 16) * 4, as: SIMD16<Float>.self)
                * rawB.loadUnaligned(fromByteOffset: (i + 16) * 4, as: SIMD16<Float>.self)
            i += 32
        }
        var s = s0 + s1
        if i + 16 <= count {
            s += rawA.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
                * rawB.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            i += 16
        }
        let s8 = s.lowHalf + s.highHalf
        let s4 = s8.lowHalf + s8.highHalf
        var sum = s4[0] + s4[1] + s4[2] + s4[3]
        while i < count { sum += a[i] * b[i]; i += 1 }
        return sum
    }

    // MARK: int8

    /// Reference: Σ a[i]·b[i] over int8, accumulated in Int32 in order.
    static func dotInt8Reference(_ a: UnsafePointer<Int8>, _ b: UnsafePointer<Int8>, _ count: Int) -> Int32 {
        var sum: Int32 = 0
        for i in 0..<count { sum += Int32(a[i]) * Int32(b[i]) }
        return sum
    }

    /// The same loop with wrapping arithmetic over raw pointers, which LLVM vectorizes
    /// (measured: SIMD integer conversions in Swift compile to calls and are 3-100x slower).
    /// |a[i]·b[i]| ≤ 127·127, so 384 or even 100k dimensions cannot overflow Int32.
    @inline(__always)
    static func dotInt8(_ a: UnsafePointer<Int8>, _ b: UnsafePointer<Int8>, _ count: Int) -> Int32 {
        var sum: Int32 = 0
        for i in 0..<count { sum &+= Int32(a[i]) &* Int32(b[i]) }
        return sum
    }

    /// Symmetric int8 quantization of one vector: q[i] = round(x[i] / scale), scale = max|x| / 127.
    static func quantize(_ x: UnsafePointer<Float>, _ count: Int, into q: UnsafeMutablePointer<Int8>) -> Float {
        var maxAbs: Float = 0
        for i in 0..<count { maxAbs = max(maxAbs, abs(x[i])) }
        guard maxAbs > 0 else {
            q.initialize(repeating: 0, count: count)
            return 0
        }
        let scale = maxAbs / 127
        let inverse = 1 / scale
        for i in 0..<count { q[i] = Int8(clamping: Int((x[i] * inverse).rounded())) }
        return scale
    }
}
