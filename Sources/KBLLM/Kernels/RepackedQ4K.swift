import CKBKernels
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// A Q4_K matrix's rows interleaved by 8 (`kb_block_q4_kx8`), for kernels that multiply 8 rows
/// at once in vector lanes: the products of a prompt's batch and of many streams' tokens.
///
/// Built once when the matrix is loaded, in memory of its own (3 % larger than the file's rows:
/// 1,184 bytes for 8 rows' 1,152 of a super-block); the file's pages of the tensor are then given
/// back to the kernel, so the process holds the weights once. The rows sum exactly as the per-row
/// kernels do (see `kb_matmul_q4k_repacked`).
final class RepackedQ4K: @unchecked Sendable {
    /// `kb_q4k_repacked_bytes(inputCount, outputCount)` bytes, 64-byte aligned; never mutated after init.
    let bytes: UnsafeMutableRawPointer
    let byteCount: Int

    /// Whether `tensor` can be repacked: Q4_K with a multiple of 8 rows, and a CPU that runs the
    /// repacked kernels (the portable kernels read the file's rows).
    static func applies(to tensor: GGUFTensor) -> Bool {
        tensor.type == .q4K && tensor.info.rowCount % 8 == 0 && tensor.info.rowCount > 0 && tensor.info.rowLength % 256 == 0
            && kb_best_family() != KB_FAMILY_GENERIC
    }

    /// Repacks `tensor` (``applies(to:)`` must hold), spread over the CPU's cores.
    init(_ tensor: GGUFTensor) {
        let inputs = tensor.info.rowLength, outputs = tensor.info.rowCount
        byteCount = kb_q4k_repacked_bytes(Int64(inputs), Int64(outputs))
        bytes = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
        // Each task writes its own groups of `packed`.
        nonisolated(unsafe) let source = tensor.bytes.baseAddress!, packed = bytes
        let rowBytes = tensor.info.rowByteCount
        let groups = outputs / 8, groupsPerTask = max(1, groups / 64)
        let tasks = (groups + groupsPerTask - 1) / groupsPerTask
        DispatchQueue.concurrentPerform(iterations: tasks) { task in
            let begin = task * groupsPerTask * 8, end = min(outputs, begin + groupsPerTask * 8)
            kb_q4k_repack(source, rowBytes, Int64(inputs), Int64(begin), Int64(end), packed)
        }
        tensor.releaseResidentPages()
    }

    deinit { bytes.deallocate() }
}
