import CKBKernels

/// A batch of input vectors quantized for the integer kernels, reusable across products.
///
/// ``WeightMatrix/multiply(_:batch:into:pool:)`` quantizes its input itself; quantize once here
/// instead when several matrices of the same ``ActivationFormat`` read the same input (the
/// attention's Q, K and V projections, the FFN's gate and up). The buffer grows as needed and
/// is kept between calls.
///
/// Quantization rule (both formats, llama.cpp's): per block `q[i] = round-half-even(x[i] × (127 / max|x|))`,
/// so `x[i] ≈ d × q[i]`; `.q8` keeps `d = max|x| / 127` and `s = d × Σq` rounded to half floats
/// (as `block_q8_0`/`block_q8_1` store them), `.q8K` keeps `d = 1 / (127 / max|x|)` in float.
public final class QuantizedActivations {
    /// The block format.
    public let format: ActivationFormat
    /// Activations per row.
    public private(set) var inputCount = 0
    /// Rows.
    public private(set) var batch = 0
    /// Bytes of one quantized row.
    public var rowByteCount: Int { format.rowByteCount(inputCount) }

    /// `capacity` bytes: `batch` rows of `rowByteCount`.
    private var storage: UnsafeMutableRawPointer?
    private var capacity = 0

    /// An empty buffer for `format`, which must be `.q8` or `.q8K`.
    public init(format: ActivationFormat) {
        precondition(format != .float, "float activations are not quantized")
        self.format = format
    }

    deinit { storage?.deallocate() }

    /// The quantized rows (`batch × rowByteCount` bytes).
    public var bytes: UnsafeRawPointer? { UnsafeRawPointer(storage) }

    /// Quantizes `batch` rows of `inputCount` floats (row-major), replacing the contents.
    /// Precondition: `inputCount` is a multiple of the format's block size.
    public func quantize(
        _ input: UnsafePointer<Float>, inputCount: Int, batch: Int, pool: ThreadPool, kernels: KernelSet = .automatic
    ) {
        precondition(inputCount % format.blockSize == 0, "\(inputCount) activations are not whole blocks of \(format.blockSize)")
        self.inputCount = inputCount
        self.batch = batch
        let needed = batch * rowByteCount
        if needed > capacity {
            storage?.deallocate()
            storage = .allocate(byteCount: needed, alignment: 64)
            capacity = needed
        }
        guard let storage, batch > 0 else { return }
        Self.quantize(input, inputCount: inputCount, batch: batch, format: format, into: storage, pool: pool, kernels: kernels)
    }

    /// Quantizes `batch` rows into `output` (`batch × format.rowByteCount(inputCount)` bytes).
    static func quantize(
        _ input: UnsafePointer<Float>, inputCount: Int, batch: Int, format: ActivationFormat,
        into output: UnsafeMutableRawPointer, pool: ThreadPool, kernels: KernelSet
    ) {
        let rowBytes = format.rowByteCount(inputCount)
        let quantizeRows = { (rows: Range<Int>) in
            for b in rows {
                let x = input + b * inputCount, row = output + b * rowBytes
                switch format {
                case .q8: kb_quantize_q8(x, Int64(inputCount), row.assumingMemoryBound(to: kb_q8_block.self), kernels.isa)
                case .q8K: kb_quantize_q8k(x, Int64(inputCount), row.assumingMemoryBound(to: kb_q8k_block.self), kernels.isa)
                case .float: preconditionFailure("float activations are not quantized")
                }
            }
        }
        // A row is microseconds of work: only a batch is worth spreading over the threads.
        let rowsPerTask = 8
        if batch < 2 * rowsPerTask || pool.threadCount == 1 {
            quantizeRows(0..<batch)
        } else {
            pool.parallelFor((batch + rowsPerTask - 1) / rowsPerTask) { task in
                quantizeRows(task * rowsPerTask..<min(batch, (task + 1) * rowsPerTask))
            }
        }
    }

    // MARK: - Reading back (tests and debugging)

    /// Row `b`'s block scales.
    func scales(row b: Int) -> [Float] {
        blocks(row: b).map { $0.scale }
    }

    /// Row `b`'s int8 quants, `inputCount` of them.
    func quants(row b: Int) -> [Int8] {
        blocks(row: b).flatMap { $0.quants }
    }

    /// Row `b`'s stored sums: for `.q8` one scaled sum `s` per block, for `.q8K` 16 group sums per block.
    func sums(row b: Int) -> [Float] {
        blocks(row: b).flatMap { $0.sums }
    }

    /// Row `b` decoded: `d × q` per activation.
    func dequantized(row b: Int) -> [Float] {
        blocks(row: b).flatMap { block in block.quants.map { block.scale * Float($0) } }
    }

    private func blocks(row b: Int) -> [(scale: Float, quants: [Int8], sums: [Float])] {
        precondition(b >= 0 && b < batch, "row \(b) of \(batch)")
        let row = UnsafeRawPointer(storage!) + b * rowByteCount
        let count = inputCount / format.blockSize
        switch format {
        case .q8:
            let blocks = row.assumingMemoryBound(to: kb_q8_block.self)
            return (0..<count).map { i in
                let block = blocks[i]
                let quants = withUnsafeBytes(of: block.qs) { Array($0.bindMemory(to: Int8.self)) }
                return (block.d, quants, [block.s])
            }
        case .q8K:
            let blocks = row.assumingMemoryBound(to: kb_q8k_block.self)
            return (0..<count).map { i in
                let block = blocks[i]
                let quants = withUnsafeBytes(of: block.qs) { Array($0.bindMemory(to: Int8.self)) }
                let sums = withUnsafeBytes(of: block.bsums) { $0.bindMemory(to: Int16.self).map { Float($0) } }
                return (block.d, quants, sums)
            }
        case .float:
            preconditionFailure("float activations are not quantized")
        }
    }
}
