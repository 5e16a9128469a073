/// A tensor of a ``GGUFFile``: its table entry and its bytes in the file's mapping.
///
/// The bytes are not copied; the tensor keeps the mapping alive, so `bytes` stays valid for the
/// tensor's lifetime even if the ``GGUFFile`` is released.
public struct GGUFTensor: @unchecked Sendable {
    /// The table entry: name, shape, type, offset and size.
    public let info: GGUFTensorInfo
    /// The tensor's `info.byteCount` bytes, rows one after another (`rowCount` × `rowByteCount`).
    public let bytes: UnsafeRawBufferPointer
    /// Keeps `bytes` mapped.
    private let mapping: MappedFile

    init(info: GGUFTensorInfo, bytes: UnsafeRawBufferPointer, mapping: MappedFile) {
        self.info = info
        self.bytes = bytes
        self.mapping = mapping
    }

    /// The tensor's name.
    public var name: String { info.name }
    /// The element type.
    public var type: TensorType { info.type }
    /// The dimensions, innermost first.
    public var shape: [Int] { info.shape }

    /// Gives the file's resident pages of this tensor back to the kernel (the weights were copied
    /// elsewhere); reading the tensor afterwards loads them from the file again.
    func releaseResidentPages() { mapping.releaseResidentPages(bytes) }

    /// The bytes of row `index` (`rowByteCount` bytes). Precondition: `index < info.rowCount`.
    public func row(_ index: Int) -> UnsafeRawBufferPointer {
        precondition(index >= 0 && index < info.rowCount, "row \(index) of \(info.rowCount) in \(name)")
        let start = index * info.rowByteCount
        return UnsafeRawBufferPointer(rebasing: bytes[start..<start + info.rowByteCount])
    }

    /// The tensor's bytes as blocks of `Block`, which must be its type's block.
    /// - Throws: ``GGUFError/Problem/unsupportedTensorType(tensor:type:)`` for another type, or
    ///   ``GGUFError/Problem/misalignedTensor(tensor:offset:alignment:)`` when the bytes are not
    ///   aligned for `Block` (only with an unusual `general.alignment` of 1).
    public func blocks<Block: QuantizedBlock>(as _: Block.Type) throws -> UnsafeBufferPointer<Block> {
        guard Block.tensorType == type else {
            throw GGUFError(file: mapping.path, problem: .unsupportedTensorType(tensor: name, type: "\(type) (not \(Block.tensorType))"))
        }
        guard let base = bytes.baseAddress else { return UnsafeBufferPointer(start: nil, count: 0) }
        guard Int(bitPattern: base) % MemoryLayout<Block>.alignment == 0 else {
            throw GGUFError(file: mapping.path, problem: .misalignedTensor(
                tensor: name, offset: UInt64(info.offset), alignment: MemoryLayout<Block>.alignment))
        }
        let count = bytes.count / MemoryLayout<Block>.stride
        return UnsafeBufferPointer(start: base.assumingMemoryBound(to: Block.self), count: count)
    }

    /// Dequantizes rows `rows` into a new array of `rows.count × rowLength` floats.
    /// - Throws: ``GGUFError/Problem/unsupportedTensorType(tensor:type:)`` for a type kb cannot decode.
    public func dequantize(rows: Range<Int>) throws -> [Float] {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= info.rowCount, "rows \(rows) of \(info.rowCount) in \(name)")
        let start = rows.lowerBound * info.rowByteCount
        let source = UnsafeRawBufferPointer(rebasing: bytes[start..<start + rows.count * info.rowByteCount])
        do {
            return try Dequantize.convert(type, from: source, count: rows.count * info.rowLength)
        } catch {
            throw GGUFError(file: mapping.path, problem: .unsupportedTensorType(tensor: name, type: type.name))
        }
    }

    /// Dequantizes the whole tensor (for tests and small tensors such as norms).
    public func dequantize() throws -> [Float] {
        try dequantize(rows: 0..<info.rowCount)
    }
}
