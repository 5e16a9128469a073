import CKBKernels
import Foundation

/// Which implementation of the matrix-product kernels runs.
///
/// `.automatic` picks the fastest the CPU supports (AVX2/FMA/F16C on x86-64); `.portable` forces
/// the scalar C versions, which are the specification: tests hold the two together.
public enum KernelSet: Sendable, CaseIterable {
    case automatic
    case portable

    /// Whether `.automatic` runs SIMD kernels here (not under `KB_KERNELS=generic`).
    public static var hasSIMD: Bool { kb_best_family() != KB_FAMILY_GENERIC }

    /// The family of kernels `.automatic` runs (`generic`, `avx2`, `avxvnni` or `avx512`): the best
    /// the CPU has, or the one the `KB_KERNELS` environment variable names (for comparisons).
    public static var family: String { String(cString: kb_family_name(kb_best_family())) }

    /// Why `KB_KERNELS` was not followed (an unknown name, a family this CPU cannot run), or nil.
    public static var overrideProblem: String? {
        kb_family_override_error().map { "\(String(cString: $0)) (KB_KERNELS=\(ProcessInfo.processInfo.environment["KB_KERNELS"] ?? "")); running the \(family) kernels" }
    }

    var isa: kb_isa { self == .automatic ? KB_ISA_BEST : KB_ISA_GENERIC }
}
