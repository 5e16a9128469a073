import CKBKernels

/// The order in which each row of a product sums its terms. llama.cpp's CPU kernels choose it
/// from the batch (see `KB_ROW_BATCHED` and `KB_ROW_PAIRS` in CKBKernels); given per row, a row's
/// result depends only on its own order, never on the rows beside it.
public enum ProductOrder: Sendable, Equatable {
    /// llama.cpp's for one sequence's batch of that many rows (``RowOrder/llamaCpp(batch:)``).
    case llamaCpp
    /// One order per row.
    case rows([RowOrder])
}

/// How one row of a product sums its terms: an option set over `KB_ROW_BATCHED` and `KB_ROW_PAIRS`.
public struct RowOrder: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// llama.cpp's single-row order (its `vec_dot` kernels; a repacked Q4_K matrix's GEMV).
    public static let single: RowOrder = []
    /// llama.cpp's tiled K-quant GEMM (batches of 8 rows or more).
    public static let batched = RowOrder(rawValue: UInt8(KB_ROW_BATCHED))
    /// A repacked Q4_K matrix's 4-row GEMM (rows in a full group of 4).
    public static let pairs = RowOrder(rawValue: UInt8(KB_ROW_PAIRS))

    /// The orders llama.cpp gives the rows of one sequence's batch of `batch` rows: batched from
    /// 8 rows, and the 4-row order for every row in a full group of 4 from the first.
    public static func llamaCpp(batch: Int) -> [RowOrder] {
        let whole = batch - batch % 4
        return (0..<batch).map { row -> RowOrder in
            var order: RowOrder = batch >= 8 ? .batched : .single
            if row < whole { order.insert(.pairs) }
            return order
        }
    }
}

/// A 2-D weight tensor of a GGUF file used as a linear map `y = W·x`.
///
/// ggml stores a linear layer's weight as `outputCount` rows of `inputCount` weights (shape
/// `[inputCount, outputCount]`, innermost first), so output `o` is the dot product of row `o`
/// with the input. The weights stay in the file's mapping, in their quantized format.
public struct WeightMatrix: Sendable {
    /// The tensor, in the file's mapping.
    public let tensor: GGUFTensor
    /// The length of an input vector (the tensor's row length).
    public var inputCount: Int { tensor.info.rowLength }
    /// The length of an output vector (the tensor's row count).
    public var outputCount: Int { tensor.info.rowCount }

    /// The rows interleaved by 8 for the SIMD kernels (Q4_K matrices of a multiple of 8 rows), or nil.
    let repacked: RepackedQ4K?

    /// Wraps `tensor`, which must be 2-D and of a type kb can decode.
    /// - Parameter repack: whether a Q4_K matrix of a multiple of 8 rows is repacked for the SIMD
    ///   kernels (``RepackedQ4K``; same results, faster). Tests turn it off to compare the two.
    /// - Throws: ``GGUFError`` naming the tensor when it is not.
    public init(_ tensor: GGUFTensor, file: String, repack: Bool = true) throws {
        guard tensor.shape.count <= 2 else {
            throw GGUFError(file: file, problem: .unsupportedTensorType(tensor: tensor.name, type: "\(tensor.shape.count)-D (a weight matrix must be 2-D)"))
        }
        guard tensor.type.canDequantize else {
            throw GGUFError(file: file, problem: .unsupportedTensorType(tensor: tensor.name, type: tensor.type.name))
        }
        self.tensor = tensor
        repacked = repack && RepackedQ4K.applies(to: tensor) ? RepackedQ4K(tensor) : nil
    }

    /// The form of input this matrix's kernel reads.
    public var activationFormat: ActivationFormat { ActivationFormat(weights: tensor.type) }

    /// Computes `output[b][o] = Σᵢ W[o][i] · input[b][i]` for `b` in `0..<batch`.
    ///
    /// - Parameters:
    ///   - input: `batch × inputCount` floats, row-major.
    ///   - output: `batch × outputCount` floats, row-major; overwritten.
    ///   - pool: the threads to split the output rows over.
    ///
    /// Quantized weights multiply the input quantized to int8 (see ``QuantizedActivations``):
    /// results differ from ``multiplyReference(_:batch:into:pool:)`` by the activations'
    /// rounding (relative error around 1e-3 of the terms' magnitude), not by the kernels.
    /// The arithmetic of a product: how it treats its activations.
    public enum Arithmetic: Sendable {
        /// Quantize activations to int8 blocks once per product and take integer dot products
        /// (fast; what llama.cpp does on CPUs).
        case quantizedActivations
        /// Dequantize weights to float and take float dot products (``multiplyReference(_:batch:into:pool:)``):
        /// the exact maths, for checking the forward pass against an exact reference.
        case float
    }

    /// ``multiply(_:batch:into:pool:)`` or, with `.float`, ``multiplyReference(_:batch:into:pool:)``.
    /// - Parameter order: see ``multiply(_:batch:into:pool:kernels:order:)``.
    public func multiply(
        _ input: UnsafePointer<Float>, batch: Int, into output: UnsafeMutablePointer<Float>, pool: ThreadPool, arithmetic: Arithmetic,
        order: ProductOrder = .llamaCpp
    ) {
        switch arithmetic {
        case .quantizedActivations: multiply(input, batch: batch, into: output, pool: pool, kernels: .automatic, order: order)
        case .float: multiplyReference(input, batch: batch, into: output, pool: pool)
        }
    }

    public func multiply(_ input: UnsafePointer<Float>, batch: Int, into output: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        multiply(input, batch: batch, into: output, pool: pool, kernels: .automatic)
    }

    /// ``multiply(_:batch:into:pool:)`` with a choice of kernel implementation (tests hold the
    /// portable C kernels and the SIMD kernels together).
    ///
    /// - Parameter order: the summation order of the rows (``ProductOrder``).
    public func multiply(
        _ input: UnsafePointer<Float>, batch: Int, into output: UnsafeMutablePointer<Float>, pool: ThreadPool, kernels: KernelSet,
        order: ProductOrder = .llamaCpp
    ) {
        guard batch > 0 else { return }
        let format = activationFormat
        if format == .float {
            run(UnsafeRawPointer(input), rowBytes: inputCount * MemoryLayout<Float>.size, batch: batch, order: order,
                into: output, pool: pool, kernels: kernels)
            return
        }
        let rowBytes = format.rowByteCount(inputCount)
        withUnsafeTemporaryAllocation(byteCount: batch * rowBytes, alignment: 64) { buffer in
            let quantized = buffer.baseAddress!
            QuantizedActivations.quantize(
                input, inputCount: inputCount, batch: batch, format: format, into: quantized, pool: pool, kernels: kernels)
            run(UnsafeRawPointer(quantized), rowBytes: rowBytes, batch: batch, order: order, into: output, pool: pool,
                kernels: kernels)
        }
    }

    /// Computes `output[b][o] = Σᵢ W[o][i] · x[b][i]` for input already quantized in this
    /// matrix's ``activationFormat`` (one quantization shared by several matrices).
    /// Precondition: the formats match and `activations.inputCount == inputCount`.
    public func multiply(
        _ activations: QuantizedActivations, into output: UnsafeMutablePointer<Float>, pool: ThreadPool,
        kernels: KernelSet = .automatic, order: ProductOrder = .llamaCpp
    ) {
        precondition(activations.format == activationFormat, "\(tensor.name) (\(tensor.type)) reads \(activationFormat) activations, not \(activations.format)")
        precondition(activations.inputCount == inputCount, "\(tensor.name) has \(inputCount) inputs, the activations \(activations.inputCount)")
        guard activations.batch > 0, let bytes = activations.bytes else { return }
        run(bytes, rowBytes: activations.rowByteCount, batch: activations.batch, order: order, into: output, pool: pool,
            kernels: kernels)
    }

    /// The product over output rows split across the pool: `batch` rows of `rowBytes` at `input`.
    private func run(
        _ input: UnsafeRawPointer, rowBytes: Int, batch: Int, order: ProductOrder, into output: UnsafeMutablePointer<Float>,
        pool: ThreadPool, kernels: KernelSet
    ) {
        let orders: [UInt8] = switch order {
        case .llamaCpp: RowOrder.llamaCpp(batch: batch).map(\.rawValue)
        case .rows(let rows): rows.map(\.rawValue)
        }
        precondition(orders.count == batch, "one order per row")
        let outputs = outputCount, inputs = inputCount
        guard outputs > 0, let weights = tensor.bytes.baseAddress else { return }
        let type = Int32(tensor.type.rawValue), weightRowBytes = tensor.info.rowByteCount
        let packed = kernels == .automatic ? repacked?.bytes : nil
        // About four tasks per thread (claimed dynamically, so a core slowed by another process
        // takes fewer); batched products keep tiles of 16 rows whole, repacked ones groups of 8.
        let granule = batch == 1 ? (packed == nil ? 4 : 8) : 16
        let perTask = max(granule, (outputs + 4 * pool.threadCount - 1) / (4 * pool.threadCount))
        let rowsPerTask = (perTask + granule - 1) / granule * granule
        let tasks = (outputs + rowsPerTask - 1) / rowsPerTask
        orders.withUnsafeBufferPointer { orders in
            pool.parallelFor(tasks) { task in
                let begin = task * rowsPerTask, end = min(outputs, begin + rowsPerTask)
                if let packed {
                    kb_matmul_q4k_repacked(packed, Int64(inputs), Int64(begin), Int64(end), input, rowBytes, Int64(batch),
                                           orders.baseAddress!, output, Int64(outputs), kernels.isa)
                    return
                }
                kb_matmul(type, weights, weightRowBytes, Int64(inputs), Int64(outputs), Int64(begin), Int64(end),
                          input, rowBytes, Int64(batch), orders.baseAddress!, output, Int64(outputs), kernels.isa)
            }
        }
    }

    /// The scalar reference: dequantizes each weight row to floats and takes float dot products
    /// with the unquantized input; same contract as ``multiply(_:batch:into:pool:)``.
    public func multiplyReference(_ input: UnsafePointer<Float>, batch: Int, into output: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let inputs = inputCount, outputs = outputCount
        let rowsPerTask = 16
        let tasks = (outputs + rowsPerTask - 1) / rowsPerTask
        pool.parallelFor(tasks) { task in
            let rows = task * rowsPerTask..<min(outputs, (task + 1) * rowsPerTask)
            let weights = try! tensor.dequantize(rows: rows)  // type checked in init
            weights.withUnsafeBufferPointer { w in
                for (k, o) in rows.enumerated() {
                    let row = w.baseAddress! + k * inputs
                    for b in 0..<batch {
                        let x = input + b * inputs
                        var sum: Float = 0
                        for i in 0..<inputs { sum += row[i] * x[i] }
                        output[b * outputs + o] = sum
                    }
                }
            }
        }
    }
}
