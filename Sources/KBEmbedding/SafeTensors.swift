import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
import KBSupport
#endif

/// Why a safetensors file could not be read. Every case names the file.
public enum SafeTensorsError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened or mapped.
    case unreadable(file: URL, reason: String)
    /// The file ends before the header or the data it announces.
    case truncated(file: URL, reason: String)
    /// The header is not the JSON object the format prescribes.
    case badHeader(file: URL, reason: String)
    /// A tensor's `data_offsets` fall outside the data section or disagree with its shape.
    case offsetsOutOfRange(file: URL, tensor: String, reason: String)
    /// A tensor has a dtype the format does not define.
    case unknownDType(file: URL, tensor: String, dtype: String)
    /// A tensor was asked for as floats but holds another dtype.
    case notFloatingPoint(file: URL, tensor: String, dtype: String)
    /// No tensor has this name.
    case missingTensor(file: URL, tensor: String)
    /// A tensor's shape is not the one the caller needs.
    case shapeMismatch(file: URL, tensor: String, expected: [Int], actual: [Int])

    /// A message naming the file and what is wrong with it.
    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            return "cannot read safetensors file \(file.path): \(reason)"
        case let .truncated(file, reason):
            return "safetensors file \(file.path) is truncated: \(reason)"
        case let .badHeader(file, reason):
            return "safetensors file \(file.path) has a bad header: \(reason)"
        case let .offsetsOutOfRange(file, tensor, reason):
            return "safetensors file \(file.path): tensor \(tensor) has bad data_offsets: \(reason)"
        case let .unknownDType(file, tensor, dtype):
            return "safetensors file \(file.path): tensor \(tensor) has unknown dtype \(dtype)"
        case let .notFloatingPoint(file, tensor, dtype):
            return "safetensors file \(file.path): tensor \(tensor) is \(dtype), not F32, F16 or BF16"
        case let .missingTensor(file, tensor):
            return "safetensors file \(file.path) has no tensor \(tensor)"
        case let .shapeMismatch(file, tensor, expected, actual):
            return "safetensors file \(file.path): tensor \(tensor) has shape \(actual), expected \(expected)"
        }
    }
}

/// The element types of the safetensors format (all little-endian).
public enum SafeTensorDType: String, Sendable, CaseIterable {
    case bool = "BOOL", u8 = "U8", i8 = "I8", f8E5M2 = "F8_E5M2", f8E4M3 = "F8_E4M3"
    case i16 = "I16", u16 = "U16", f16 = "F16", bf16 = "BF16"
    case i32 = "I32", u32 = "U32", f32 = "F32"
    case i64 = "I64", u64 = "U64", f64 = "F64"

    /// Bytes per element.
    public var byteCount: Int {
        switch self {
        case .bool, .u8, .i8, .f8E5M2, .f8E4M3: return 1
        case .i16, .u16, .f16, .bf16: return 2
        case .i32, .u32, .f32: return 4
        case .i64, .u64, .f64: return 8
        }
    }
}

/// One tensor's entry in the header.
public struct SafeTensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: SafeTensorDType
    /// Dimensions, outermost first (row-major).
    public let shape: [Int]
    /// Byte range within the data section (which starts right after the header).
    public let dataRange: Range<Int>

    /// The number of elements, the product of `shape` (1 for a scalar).
    public var elementCount: Int { shape.reduce(1, *) }
}

/// A read-only view of a `.safetensors` file, memory-mapped.
///
/// Layout: an 8-byte little-endian header length `n`, `n` bytes of JSON mapping each tensor name
/// to `{"dtype", "shape", "data_offsets": [begin, end]}` (offsets relative to the byte after the
/// header), an optional `"__metadata__"` object of strings, then the raw tensor data. Every
/// tensor entry is validated when the file is opened, so reading one later cannot go out of bounds.
public final class SafeTensorsFile: @unchecked Sendable {  // immutable after init; the mapping is read-only
    /// The file this was read from.
    public let url: URL
    /// The file's size in bytes.
    public let fileSize: Int
    /// The JSON header exactly as stored (without the 8-byte length).
    public let headerBytes: [UInt8]
    /// The `__metadata__` strings (empty when absent).
    public let metadata: [String: String]
    /// Every tensor by name.
    public let tensors: [String: SafeTensorInfo]

    /// Start of the mapping ([fileSize] bytes).
    private let mapping: UnsafeRawPointer
    /// Offset of the data section within the file: 8 + header length.
    private let dataStart: Int

    /// Headers larger than this are refused (the reference implementation's limit).
    static let maxHeaderBytes = 100_000_000

    /// Maps `url` and validates its header.
    ///
    /// - Parameter url: The `.safetensors` file.
    /// - Throws: ``SafeTensorsError`` naming the file when it cannot be opened, is truncated, has
    ///   a header that is not valid safetensors JSON, an unknown dtype, or offsets outside the data.
    /// - Complexity: O(header size); tensor data is not touched until it is read.
    public init(url: URL) throws {
        self.url = url
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else { throw SafeTensorsError.unreadable(file: url, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            throw SafeTensorsError.unreadable(file: url, reason: String(cString: strerror(errno)))
        }
        let size = Int(status.st_size)
        guard size >= 8 else {
            throw SafeTensorsError.truncated(file: url, reason: "\(size) bytes, shorter than the 8-byte header length")
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw SafeTensorsError.unreadable(file: url, reason: "mmap: " + String(cString: strerror(errno)))
        }
        let mapping = UnsafeRawPointer(base)
        do {
            let headerLength = UInt64(littleEndian: mapping.loadUnaligned(as: UInt64.self))
            guard headerLength <= UInt64(Self.maxHeaderBytes) else {
                throw SafeTensorsError.badHeader(file: url, reason: "header length \(headerLength) exceeds \(Self.maxHeaderBytes) bytes")
            }
            guard headerLength <= UInt64(size - 8) else {
                throw SafeTensorsError.truncated(
                    file: url, reason: "header of \(headerLength) bytes announced, \(size - 8) bytes follow")
            }
            let header = Array(UnsafeRawBufferPointer(start: mapping + 8, count: Int(headerLength)))
            let dataStart = 8 + Int(headerLength)
            let parsed = try Self.parseHeader(header, dataSize: size - dataStart, file: url)
            self.fileSize = size
            self.headerBytes = header
            self.metadata = parsed.metadata
            self.tensors = parsed.tensors
            self.mapping = mapping
            self.dataStart = dataStart
        } catch {
            munmap(base, size)
            throw error
        }
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: mapping), fileSize)
    }

    /// The tensor's raw bytes, valid while this file object lives.
    public func rawBytes(of info: SafeTensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: mapping + dataStart + info.dataRange.lowerBound, count: info.dataRange.count)
    }

    /// Reads a floating-point tensor as `Float`, converting F16 and BF16.
    ///
    /// - Parameters:
    ///   - name: The tensor's name in the header.
    ///   - shape: The shape the caller needs, or `nil` to accept any.
    /// - Returns: The elements in row-major order.
    /// - Throws: ``SafeTensorsError/missingTensor(file:tensor:)``,
    ///   ``SafeTensorsError/shapeMismatch(file:tensor:expected:actual:)`` or
    ///   ``SafeTensorsError/notFloatingPoint(file:tensor:dtype:)``.
    public func floats(_ name: String, shape: [Int]? = nil) throws -> [Float] {
        guard let info = tensors[name] else { throw SafeTensorsError.missingTensor(file: url, tensor: name) }
        if let shape, shape != info.shape {
            throw SafeTensorsError.shapeMismatch(file: url, tensor: name, expected: shape, actual: info.shape)
        }
        let bytes = rawBytes(of: info)
        let count = info.elementCount
        switch info.dtype {
        case .f32:
            return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                // The data section need not be 4-byte aligned: copy bytes, not floats.
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: bytes)
                for i in 0..<count { buffer[i] = Float(bitPattern: UInt32(littleEndian: buffer[i].bitPattern)) }
                initialized = count
            }
        case .f16:
            return (0..<count).map { Float(f16Bits: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) }
        case .bf16:
            return (0..<count).map { Float(bf16Bits: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) }
        default:
            throw SafeTensorsError.notFloatingPoint(file: url, tensor: name, dtype: info.dtype.rawValue)
        }
    }

    // MARK: - Header

    private struct Header: Decodable {
        struct Entry: Decodable {
            let dtype: String
            let shape: [Int]
            let data_offsets: [Int]
        }

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        var metadata: [String: String] = [:]
        var entries: [String: Entry] = [:]

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            for key in container.allKeys {
                if key.stringValue == "__metadata__" {
                    metadata = try container.decode([String: String].self, forKey: key)
                } else {
                    entries[key.stringValue] = try container.decode(Entry.self, forKey: key)
                }
            }
        }
    }

    private static func parseHeader(
        _ bytes: [UInt8], dataSize: Int, file: URL
    ) throws -> (metadata: [String: String], tensors: [String: SafeTensorInfo]) {
        guard bytes.first == UInt8(ascii: "{") else {
            throw SafeTensorsError.badHeader(file: file, reason: "does not start with '{'")
        }
        let header: Header
        do {
            header = try JSONDecoder().decode(Header.self, from: Data(bytes))
        } catch {
            throw SafeTensorsError.badHeader(file: file, reason: "\(error)")
        }
        var tensors: [String: SafeTensorInfo] = [:]
        for (name, entry) in header.entries {
            guard let dtype = SafeTensorDType(rawValue: entry.dtype) else {
                throw SafeTensorsError.unknownDType(file: file, tensor: name, dtype: entry.dtype)
            }
            guard entry.shape.allSatisfy({ $0 >= 0 }) else {
                throw SafeTensorsError.badHeader(file: file, reason: "tensor \(name) has a negative dimension in \(entry.shape)")
            }
            guard entry.data_offsets.count == 2 else {
                throw SafeTensorsError.badHeader(file: file, reason: "tensor \(name): data_offsets must be [begin, end]")
            }
            let (begin, end) = (entry.data_offsets[0], entry.data_offsets[1])
            guard begin >= 0, begin <= end, end <= dataSize else {
                throw SafeTensorsError.offsetsOutOfRange(
                    file: file, tensor: name, reason: "[\(begin), \(end)] outside the \(dataSize)-byte data section")
            }
            let (elements, overflow) = entry.shape.reduce((1, false)) { acc, dim in
                let product = acc.0.multipliedReportingOverflow(by: dim)
                return (product.partialValue, acc.1 || product.overflow)
            }
            let byteCount = elements.multipliedReportingOverflow(by: dtype.byteCount)
            guard !overflow, !byteCount.overflow, byteCount.partialValue == end - begin else {
                throw SafeTensorsError.offsetsOutOfRange(
                    file: file, tensor: name,
                    reason: "\(end - begin) bytes do not hold shape \(entry.shape) of \(dtype.rawValue)")
            }
            tensors[name] = SafeTensorInfo(name: name, dtype: dtype, shape: entry.shape, dataRange: begin..<end)
        }
        return (header.metadata, tensors)
    }
}
