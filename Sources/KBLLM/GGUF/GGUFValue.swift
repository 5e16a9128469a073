/// The type ids of GGUF metadata values (`gguf_type` in ggml).
public enum GGUFValueType: UInt32, Sendable, CaseIterable {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7
    case string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

    /// The size in bytes of one value of a fixed-size type; `nil` for `string` and `array`.
    public var fixedSize: Int? {
        switch self {
        case .uint8, .int8, .bool: 1
        case .uint16, .int16: 2
        case .uint32, .int32, .float32: 4
        case .uint64, .int64, .float64: 8
        case .string, .array: nil
        }
    }

    /// The fewest bytes a value of this type occupies (a string or array header counts).
    var minimumSize: Int { fixedSize ?? (self == .string ? 8 : 12) }
}

/// One metadata value of a GGUF file.
///
/// Arrays stay in the mapped file (``GGUFArray``) and are decoded on request, so opening a file
/// with a 150,000-token vocabulary allocates nothing for it until the tokenizer asks.
public enum GGUFValue: Sendable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool)
    case string(String)
    case array(GGUFArray)

    /// The value's GGUF type.
    public var type: GGUFValueType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .uint64: .uint64
        case .int64: .int64
        case .float32: .float32
        case .float64: .float64
        case .bool: .bool
        case .string: .string
        case .array: .array
        }
    }

    /// The value of any integer type as an `Int`; `nil` for other types or a `UInt64` above `Int.max`.
    public var intValue: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(v)
        default: nil
        }
    }

    /// A `float32` or `float64` value; `nil` for other types.
    public var doubleValue: Double? {
        switch self {
        case .float32(let v): Double(v)
        case .float64(let v): v
        default: nil
        }
    }

    /// A `bool` value; `nil` for other types.
    public var boolValue: Bool? {
        if case .bool(let v) = self { return v }
        return nil
    }

    /// A `string` value; `nil` for other types.
    public var stringValue: String? {
        if case .string(let v) = self { return v }
        return nil
    }

    /// An `array` value; `nil` for other types.
    public var arrayValue: GGUFArray? {
        if case .array(let v) = self { return v }
        return nil
    }

    /// The type for error messages, with the element type of arrays: `array<string>`.
    var typeDescription: String {
        if case .array(let array) = self { return "array<\(array.elementType)>" }
        return "\(type)"
    }

    /// Reads one value of `type` at the reader's position; arrays are validated and skipped, not decoded.
    static func read(
        _ type: GGUFValueType, from reader: inout GGUFByteReader, mapping: MappedFile, key: String
    ) throws -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try reader.read(UInt8.self))
        case .int8: return .int8(try reader.read(Int8.self))
        case .uint16: return .uint16(try reader.read(UInt16.self))
        case .int16: return .int16(try reader.read(Int16.self))
        case .uint32: return .uint32(try reader.read(UInt32.self))
        case .int32: return .int32(try reader.read(Int32.self))
        case .uint64: return .uint64(try reader.read(UInt64.self))
        case .int64: return .int64(try reader.read(Int64.self))
        case .float32: return .float32(try reader.readFloat())
        case .float64: return .float64(try reader.readDouble())
        case .bool: return .bool(try reader.read(UInt8.self) != 0)
        case .string: return .string(try reader.readString())
        case .array: return .array(try GGUFArray.read(from: &reader, mapping: mapping, key: key))
        }
    }
}

extension GGUFValue: Equatable {
    /// Scalars and strings compare by value; arrays by element type, count and bytes.
    public static func == (lhs: GGUFValue, rhs: GGUFValue) -> Bool {
        switch (lhs, rhs) {
        case (.uint8(let a), .uint8(let b)): a == b
        case (.int8(let a), .int8(let b)): a == b
        case (.uint16(let a), .uint16(let b)): a == b
        case (.int16(let a), .int16(let b)): a == b
        case (.uint32(let a), .uint32(let b)): a == b
        case (.int32(let a), .int32(let b)): a == b
        case (.uint64(let a), .uint64(let b)): a == b
        case (.int64(let a), .int64(let b)): a == b
        case (.float32(let a), .float32(let b)): a.bitPattern == b.bitPattern
        case (.float64(let a), .float64(let b)): a.bitPattern == b.bitPattern
        case (.bool(let a), .bool(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        default: false
        }
    }
}
