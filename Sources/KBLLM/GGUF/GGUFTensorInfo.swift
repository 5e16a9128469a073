/// One tensor's entry in a GGUF file's tensor table: name, shape, type and where its bytes are.
///
/// Shapes are in ggml order: `shape[0]` is the length of a row (the contiguous dimension), so a
/// PyTorch weight of shape `[out, in]` appears as `[in, out]` — `out` rows of `in` weights.
public struct GGUFTensorInfo: Sendable, Equatable {
    /// ggml allows at most four dimensions (`GGML_MAX_DIMS`).
    public static let maximumDimensions = 4

    /// The tensor's name, e.g. `"blk.0.attn_q.weight"`.
    public let name: String
    /// The dimensions, innermost first (`shape[0]` weights per row).
    public let shape: [Int]
    /// The element type.
    public let type: TensorType
    /// The offset of the tensor's bytes from the start of the data section.
    public let offset: Int
    /// The bytes the tensor occupies.
    public let byteCount: Int

    /// The total number of weights.
    public var elementCount: Int { shape.reduce(1, *) }
    /// The weights per row (`shape[0]`; 1 for a scalar).
    public var rowLength: Int { shape.first ?? 1 }
    /// The number of rows: the product of every dimension but the first.
    public var rowCount: Int { shape.dropFirst().reduce(1, *) }
    /// The bytes of one row.
    public var rowByteCount: Int { rowCount == 0 ? 0 : byteCount / rowCount }

    /// Reads a tensor-table entry at the reader's position and validates its shape and type;
    /// bounds against the data section are checked by ``GGUFFile`` once that is known.
    static func read(from reader: inout GGUFByteReader) throws -> GGUFTensorInfo {
        let name = try reader.readString()
        let dimensionCount = try reader.read(UInt32.self)
        guard dimensionCount <= maximumDimensions else {
            throw reader.error(.invalidTensorShape(
                tensor: name, shape: [], reason: "\(dimensionCount) dimensions (at most \(maximumDimensions))"))
        }
        var rawShape: [UInt64] = []
        for _ in 0..<dimensionCount { rawShape.append(try reader.read(UInt64.self)) }
        let rawType = try reader.read(UInt32.self)
        let rawOffset = try reader.read(UInt64.self)

        guard let type = TensorType(rawValue: rawType) else {
            throw reader.error(.unknownTensorType(tensor: name, rawType: rawType))
        }
        func invalid(_ reason: String) -> GGUFError {
            reader.error(.invalidTensorShape(tensor: name, shape: rawShape, reason: reason))
        }
        // ggml stores dimensions as int64; the row count (and so every product the accessors
        // compute) must fit as well.
        let shape = try rawShape.map { dimension in
            guard let size = Int(exactly: dimension) else { throw invalid("dimension too large") }
            return size
        }
        var rows = 1
        for size in shape.dropFirst() {
            let product = rows.multipliedReportingOverflow(by: size)
            guard !product.overflow else { throw invalid("element count overflows") }
            rows = product.partialValue
        }
        let rowLength = shape.first ?? 1
        guard rowLength.multipliedReportingOverflow(by: rows).overflow == false else {
            throw invalid("element count overflows")
        }
        guard let rowBytes = type.rowByteCount(rowLength) else {
            throw invalid("a row of \(rowLength) is not a whole number of \(type.name) blocks of \(type.blockSize)")
        }
        let bytes = rowBytes.multipliedReportingOverflow(by: rows)
        guard !bytes.overflow else { throw invalid("byte count overflows") }
        guard let offset = Int(exactly: rawOffset) else {
            throw reader.error(.tensorOutOfBounds(tensor: name, offset: rawOffset, byteCount: bytes.partialValue, available: 0))
        }
        return GGUFTensorInfo(name: name, shape: shape, type: type, offset: offset, byteCount: bytes.partialValue)
    }
}
