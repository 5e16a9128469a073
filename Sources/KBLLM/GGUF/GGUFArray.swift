/// A metadata array, left in the mapped file and decoded on request.
///
/// GGUF arrays hold elements of one type, including strings and arrays (nested arrays may mix
/// element types between rows). The vocabulary of a Qwen2 model is one `array<string>` of 151,936
/// tokens; ``strings()`` decodes it in one pass.
public struct GGUFArray: Sendable, Equatable {
    /// Arrays of arrays deeper than this are rejected as corrupt.
    public static let maximumNesting = 16

    /// The type of every element.
    public let elementType: GGUFValueType
    /// The number of elements.
    public let count: Int
    /// The metadata key the array belongs to, for errors.
    public let key: String
    /// The mapped file; kept alive by the array.
    private let mapping: MappedFile
    /// The absolute file offset of the first element.
    private let elementsOffset: Int
    /// The bytes all the elements occupy.
    private let byteCount: Int

    /// Reads an array header at the reader's position, validates all its elements (nested arrays
    /// too) against the file's bounds and moves past them.
    static func read(
        from reader: inout GGUFByteReader, mapping: MappedFile, key: String, depth: Int = 0
    ) throws -> GGUFArray {
        guard depth < maximumNesting else { throw reader.error(.arrayNestingTooDeep(key: key)) }
        let rawType = try reader.read(UInt32.self)
        guard let elementType = GGUFValueType(rawValue: rawType) else {
            throw reader.error(.invalidValueType(key: key, rawType: rawType))
        }
        let rawCount = try reader.read(UInt64.self)
        // Every element takes at least `minimumSize` bytes: reject counts the file cannot hold
        // before looping over them.
        let minimumBytes = rawCount.multipliedReportingOverflow(by: UInt64(elementType.minimumSize))
        guard !minimumBytes.overflow else {
            throw reader.error(.truncated(offset: reader.offset, needed: Int.max, fileSize: reader.bytes.count))
        }
        _ = try reader.requireLength(minimumBytes.partialValue)
        let count = Int(rawCount)  // fits: bounded by the file size above

        let start = reader.offset
        if let size = elementType.fixedSize {
            try reader.skip(count * size)
        } else if elementType == .string {
            for _ in 0..<count { try reader.skipString() }
        } else {
            for _ in 0..<count { _ = try read(from: &reader, mapping: mapping, key: key, depth: depth + 1) }
        }
        return GGUFArray(
            elementType: elementType, count: count, key: key, mapping: mapping,
            elementsOffset: start, byteCount: reader.offset - start)
    }

    /// A reader positioned at the first element.
    private var elementReader: GGUFByteReader {
        GGUFByteReader(bytes: mapping.bytes, file: mapping.path, offset: elementsOffset)
    }

    private func mismatch(_ expected: String) -> GGUFError {
        GGUFError(
            file: mapping.path,
            problem: .typeMismatch(key: key, expected: expected, found: "array<\(elementType)>"))
    }

    /// Every element as a ``GGUFValue`` (nested arrays stay lazy).
    /// - Complexity: O(`count`).
    public func values() throws -> [GGUFValue] {
        var reader = elementReader
        var values: [GGUFValue] = []
        values.reserveCapacity(count)
        for _ in 0..<count {
            values.append(try GGUFValue.read(elementType, from: &reader, mapping: mapping, key: key))
        }
        return values
    }

    /// The elements of an `array<string>`.
    /// - Throws: ``GGUFError/Problem/typeMismatch(key:expected:found:)`` for other element types.
    public func strings() throws -> [String] {
        guard elementType == .string else { throw mismatch("array<string>") }
        var reader = elementReader
        var strings: [String] = []
        strings.reserveCapacity(count)
        for _ in 0..<count { strings.append(try reader.readString()) }
        return strings
    }

    /// The elements of an array of any integer type.
    /// - Throws: ``GGUFError/Problem/typeMismatch(key:expected:found:)`` for other element types
    ///   or a `uint64` element above `Int.max`.
    public func integers() throws -> [Int] {
        guard elementType.fixedSize != nil, elementType != .float32, elementType != .float64,
            elementType != .bool
        else { throw mismatch("array of integers") }
        var reader = elementReader
        var result: [Int] = []
        result.reserveCapacity(count)
        for _ in 0..<count {
            guard let value = try GGUFValue.read(elementType, from: &reader, mapping: mapping, key: key).intValue
            else { throw mismatch("array of integers that fit in Int") }
            result.append(value)
        }
        return result
    }

    /// The elements of an `array<float32>` (or `array<float64>`, rounded to `Float`).
    /// - Throws: ``GGUFError/Problem/typeMismatch(key:expected:found:)`` for other element types.
    public func floats() throws -> [Float] {
        var reader = elementReader
        switch elementType {
        case .float32: return try (0..<count).map { _ in try reader.readFloat() }
        case .float64: return try (0..<count).map { _ in Float(try reader.readDouble()) }
        default: throw mismatch("array<float32>")
        }
    }

    /// The elements of an `array<bool>`.
    /// - Throws: ``GGUFError/Problem/typeMismatch(key:expected:found:)`` for other element types.
    public func bools() throws -> [Bool] {
        guard elementType == .bool else { throw mismatch("array<bool>") }
        var reader = elementReader
        return try (0..<count).map { _ in try reader.read(UInt8.self) != 0 }
    }

    /// Arrays are equal when their element types, counts and encoded bytes are.
    public static func == (lhs: GGUFArray, rhs: GGUFArray) -> Bool {
        guard lhs.elementType == rhs.elementType, lhs.count == rhs.count, lhs.byteCount == rhs.byteCount
        else { return false }
        return lhs.elementBytes.elementsEqual(rhs.elementBytes)
    }

    /// The encoded elements in the mapping.
    private var elementBytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: mapping.bytes[elementsOffset..<elementsOffset + byteCount])
    }
}
