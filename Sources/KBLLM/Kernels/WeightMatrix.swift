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

    /// Wraps `tensor`, which must be 2-D and of a type kb can decode.
    /// - Throws: ``GGUFError`` naming the tensor when it is not.
    public init(_ tensor: GGUFTensor, file: String) throws {
        guard tensor.shape.count <= 2 else {
            throw GGUFError(file: file, problem: .unsupportedTensorType(tensor: tensor.name, type: "\(tensor.shape.count)-D (a weight matrix must be 2-D)"))
        }
        guard tensor.type.canDequantize else {
            throw GGUFError(file: file, problem: .unsupportedTensorType(tensor: tensor.name, type: tensor.type.name))
        }
        self.tensor = tensor
    }

    /// Computes `output[b][o] = Σᵢ W[o][i] · input[b][i]` for `b` in `0..<batch`.
    ///
    /// - Parameters:
    ///   - input: `batch × inputCount` floats, row-major.
    ///   - output: `batch × outputCount` floats, row-major; overwritten.
    ///   - pool: the threads to split the output rows over.
    ///
    /// This version dequantizes each weight row to floats and takes float dot products: the
    /// scalar reference the fast integer kernels are held to.
    public func multiply(_ input: UnsafePointer<Float>, batch: Int, into output: UnsafeMutablePointer<Float>, pool: ThreadPool) {
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
