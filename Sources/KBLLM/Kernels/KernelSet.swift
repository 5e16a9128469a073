import CKBKernels

/// Which implementation of the matrix-product kernels runs.
///
/// `.automatic` picks the fastest the CPU supports (AVX2/FMA/F16C on x86-64); `.portable` forces
/// the scalar C versions, which are the specification: tests hold the two together.
public enum KernelSet: Sendable, CaseIterable {
    case automatic
    case portable

    /// Whether `.automatic` runs SIMD kernels on this CPU.
    public static var hasSIMD: Bool { kb_cpu_has_avx2() != 0 }

    var isa: kb_isa { self == .automatic ? KB_ISA_BEST : KB_ISA_GENERIC }
}
