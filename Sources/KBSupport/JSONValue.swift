import Foundation

/// Any JSON value, decoded and re-encoded as it is: kb's one type for JSON whose shape is not known
/// in advance (a document's metadata in API answers; fixtures in tests).
public enum JSONValue: Codable, Sendable, Equatable {
    case null, bool(Bool), int(Int64), double(Double), string(String), array([JSONValue]), object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int64.self) { self = .int(value) }
        else if let value = try? container.decode(Double.self) { self = .double(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// Parses JSON text; nil when it is not valid JSON.
    public static func parse(_ text: String) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    /// The same value with every number as a `Double`, for comparing values whose writers differ
    /// on `1` versus `1.0`.
    public var numbersAsDoubles: JSONValue {
        switch self {
        case .int(let value): .double(Double(value))
        case .array(let values): .array(values.map(\.numbersAsDoubles))
        case .object(let fields): .object(fields.mapValues(\.numbersAsDoubles))
        default: self
        }
    }
}
