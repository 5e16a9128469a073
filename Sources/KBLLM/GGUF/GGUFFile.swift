/// A GGUF model file (format versions 2 and 3), memory-mapped and never copied.
///
/// Layout (all little-endian):
/// ```
/// "GGUF"  version:u32  tensor_count:u64  kv_count:u64
/// kv_count × (key:string  type:u32  value)           metadata
/// tensor_count × (name:string  n_dims:u32  dims:u64×n_dims  type:u32  offset:u64)
/// padding to general.alignment (default 32)
/// data section: each tensor at its offset from here
/// ```
/// Opening reads the header, metadata and tensor table (arrays such as the vocabulary are only
/// validated, see ``GGUFArray``) and checks every tensor lies inside the file. Tensor bytes are
/// touched only when used, so a 20 GB file opens on a 24 GB machine.
///
/// Immutable after `init`; safe to share across threads.
public final class GGUFFile: Sendable {
    /// The file starts with these four bytes: "GGUF", read as a little-endian `UInt32`.
    public static let magic: UInt32 = 0x4655_4747
    /// The format versions this reader reads (version 1 used 32-bit counts and is obsolete).
    public static let supportedVersions: ClosedRange<UInt32> = 2...3
    /// The alignment of the data section and of each tensor when `general.alignment` is absent.
    public static let defaultAlignment = 32

    /// The path the file was opened with.
    public var path: String { mapping.path }
    /// The format version (2 or 3).
    public let version: UInt32
    /// The key-value metadata.
    public let metadata: GGUFMetadata
    /// The tensor table, in file order.
    public let tensors: [GGUFTensorInfo]
    /// The alignment of the data section and of each tensor's offset, in bytes.
    public let alignment: Int
    /// The absolute file offset of the data section (tensor offsets are relative to it).
    public let dataOffset: Int
    /// The file's size in bytes.
    public var fileSize: Int { mapping.count }

    private let mapping: MappedFile
    private let tensorIndex: [String: Int]

    /// Opens and validates the GGUF file at `path`.
    /// - Throws: ``GGUFError`` naming `path`: cannot open, bad magic, unsupported version,
    ///   truncated, invalid metadata, unknown tensor type, invalid shape, tensor out of bounds.
    /// - Complexity: O(metadata and tensor table size); tensor data is not read.
    public init(path: String) throws {
        let mapping = try MappedFile(path: path)
        self.mapping = mapping
        var reader = GGUFByteReader(bytes: mapping.bytes, file: path)

        let magic = try reader.read(UInt32.self)
        guard magic == Self.magic else { throw reader.error(.badMagic(found: magic)) }
        let version = try reader.read(UInt32.self)
        guard Self.supportedVersions.contains(version) else {
            // A big-endian file's small version number reads as a large one with a zero low half.
            if version & 0xFFFF == 0, Self.supportedVersions.contains(version.byteSwapped) {
                throw reader.error(.bigEndian)
            }
            throw reader.error(.unsupportedVersion(version))
        }
        self.version = version
        let tensorCount = try reader.read(UInt64.self)
        let keyCount = try reader.read(UInt64.self)
        // Reject counts the file cannot hold before looping (a key-value takes at least 13 bytes,
        // a tensor entry at least 24), so garbage cannot make us loop for long.
        guard keyCount <= UInt64(reader.remaining / 13), tensorCount <= UInt64(reader.remaining / 24) else {
            let needed = min(keyCount, UInt64.max / 64) * 13 + min(tensorCount, UInt64.max / 64) * 24
            throw reader.error(.truncated(offset: reader.offset, needed: Int(clamping: needed), fileSize: mapping.count))
        }

        metadata = try Self.readMetadata(count: Int(keyCount), from: &reader, mapping: mapping)
        alignment = try Self.alignment(of: metadata)

        var tensors: [GGUFTensorInfo] = []
        var tensorIndex: [String: Int] = [:]
        tensors.reserveCapacity(Int(tensorCount))
        for _ in 0..<tensorCount {
            let info = try GGUFTensorInfo.read(from: &reader)
            guard tensorIndex.updateValue(tensors.count, forKey: info.name) == nil else {
                throw reader.error(.duplicateTensor(info.name))
            }
            guard info.offset % alignment == 0 else {
                throw reader.error(.misalignedTensor(tensor: info.name, offset: UInt64(info.offset), alignment: alignment))
            }
            tensors.append(info)
        }

        // The data section starts at the next multiple of the alignment (possibly past the end of
        // a file without tensor data).
        let (padded, overflow) = reader.offset.addingReportingOverflow(alignment - 1)
        dataOffset = overflow ? Int.max : padded / alignment * alignment
        let available = max(0, mapping.count - dataOffset)
        for info in tensors where info.byteCount > 0 {
            let (end, overflow) = info.offset.addingReportingOverflow(info.byteCount)
            guard !overflow, end <= available else {
                throw reader.error(.tensorOutOfBounds(
                    tensor: info.name, offset: UInt64(info.offset), byteCount: info.byteCount, available: available))
            }
        }
        self.tensors = tensors
        self.tensorIndex = tensorIndex
    }

    private static func readMetadata(
        count: Int, from reader: inout GGUFByteReader, mapping: MappedFile
    ) throws -> GGUFMetadata {
        var keys: [String] = []
        var values: [String: GGUFValue] = [:]
        keys.reserveCapacity(count)
        for _ in 0..<count {
            let key = try reader.readString()
            let rawType = try reader.read(UInt32.self)
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw reader.error(.invalidValueType(key: key, rawType: rawType))
            }
            let value = try GGUFValue.read(type, from: &reader, mapping: mapping, key: key)
            guard values.updateValue(value, forKey: key) == nil else { throw reader.error(.duplicateKey(key)) }
            keys.append(key)
        }
        return GGUFMetadata(file: mapping.path, keys: keys, values: values)
    }

    /// `general.alignment`, or the default of 32; it must be a power of two.
    private static func alignment(of metadata: GGUFMetadata) throws -> Int {
        guard let value = metadata["general.alignment"] else { return defaultAlignment }
        guard let alignment = value.intValue else {
            throw GGUFError(file: metadata.file, problem: .invalidAlignment("holds \(value.typeDescription)"))
        }
        guard alignment > 0, alignment & (alignment - 1) == 0 else {
            throw GGUFError(file: metadata.file, problem: .invalidAlignment("\(alignment) is not a power of two"))
        }
        return alignment
    }

    // MARK: - Tensors

    /// The table entry of the tensor called `name`, if any.
    public func tensorInfo(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// A view of the tensor called `name`: its type, shape and bytes in the mapping.
    /// - Throws: ``GGUFError/Problem/tensorNotFound(_:)``.
    public func tensor(named name: String) throws -> GGUFTensor {
        guard let info = tensorInfo(named: name) else {
            throw GGUFError(file: path, problem: .tensorNotFound(name))
        }
        return try tensor(info)
    }

    /// A view of a tensor of this file's table.
    /// - Throws: ``GGUFError/Problem/tensorNotFound(_:)`` when `info` is not an entry of this file.
    public func tensor(_ info: GGUFTensorInfo) throws -> GGUFTensor {
        guard let index = tensorIndex[info.name], tensors[index] == info else {
            throw GGUFError(file: path, problem: .tensorNotFound(info.name))
        }
        // Bounds were checked in init; an empty tensor may sit at the very end of the file.
        let start = min(dataOffset + info.offset, mapping.count)
        let bytes = UnsafeRawBufferPointer(rebasing: mapping.bytes[start..<start + info.byteCount])
        return GGUFTensor(info: info, bytes: bytes, mapping: mapping)
    }
}
