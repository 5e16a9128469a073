import Foundation
import KBSupport
import KBTestSupport
import XCTest
@testable import KBLLM

/// `Fixtures/gguf-reference.json` (made by scripts/fixtures/make_gguf_fixture.py with llama.cpp's
/// `gguf` Python package) and the model files it describes.
struct GGUFReference: Decodable {
    let generator: String
    let models: [Model]
    let synthetic: Synthetic

    struct Model: Decodable {
        let file: String
        let sha256: String
        let version: UInt32
        let alignment: Int
        let dataOffset: Int
        let architecture: String
        let keys: [String]
        let metadata: [String: MetadataEntry]
        let chatTemplatePrefix: String
        let tensorCount: Int
        let tensors: [TensorEntry]
        let dequantized: [DequantizedSample]
    }

    /// One metadata value: scalars exactly; arrays by count and first/last elements.
    struct MetadataEntry: Decodable {
        let type: String
        let value: Scalar?
        let elementType: String?
        let count: Int?
        let first: [Scalar]?
        let last: [Scalar]?

        enum CodingKeys: String, CodingKey { case type, value, elementType, count, first, last }  // snake_case converted by the decoder

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            type = try container.decode(String.self, forKey: .type)
            elementType = try container.decodeIfPresent(String.self, forKey: .elementType)
            count = try container.decodeIfPresent(Int.self, forKey: .count)
            if type == "array" {
                let elementType = elementType ?? ""
                value = nil
                first = try container.decode([RawScalar].self, forKey: .first).map { try $0.typed(elementType) }
                last = try container.decode([RawScalar].self, forKey: .last).map { try $0.typed(elementType) }
            } else {
                value = try container.decode(RawScalar.self, forKey: .value).typed(type)
                first = nil
                last = nil
            }
        }
    }

    /// A JSON scalar interpreted with its GGUF type (so that 64-bit integers stay exact).
    enum Scalar: Equatable {
        case int(Int64), uint(UInt64), float(Double), bool(Bool), string(String)
    }

    /// A JSON scalar before its type is known: a number is kept in every form that decodes exactly.
    struct RawScalar: Decodable {
        var int: Int64?, uint: UInt64?, double: Double?, bool: Bool?, string: String?

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            bool = try? container.decode(Bool.self)
            string = try? container.decode(String.self)
            int = try? container.decode(Int64.self)
            uint = try? container.decode(UInt64.self)
            double = try? container.decode(Double.self)
        }

        func typed(_ type: String) throws -> Scalar {
            let scalar: Scalar? =
                switch type {
                case "uint8", "uint16", "uint32", "uint64": uint.map { .uint($0) }
                case "int8", "int16", "int32", "int64": int.map { .int($0) }
                case "float32", "float64": double.map { .float($0) }
                case "bool": bool.map { .bool($0) }
                case "string": string.map { .string($0) }
                default: nil
                }
            guard let scalar else {
                throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "not a \(type): \(self)"))
            }
            return scalar
        }
    }

    /// `[name, type, shape, offset in the data section, byte count]`.
    struct TensorEntry: Decodable {
        let name: String
        let type: String
        let shape: [Int]
        let offset: Int
        let byteCount: Int

        init(from decoder: any Decoder) throws {
            var container = try decoder.unkeyedContainer()
            name = try container.decode(String.self)
            type = try container.decode(String.self)
            shape = try container.decode([Int].self)
            offset = try container.decode(Int.self)
            byteCount = try container.decode(Int.self)
        }
    }

    struct RowStats: Decodable {
        let sum: Double
        let sumSquares: Double
    }

    /// The first weights of the first tensor of one type, and checksums of its first and last rows.
    struct DequantizedSample: Decodable {
        let tensor: String
        let type: String
        let values: [Double]
        let firstRow: RowStats
        let lastRow: RowStats
    }

    struct Synthetic: Decodable {
        let file: String
        let sha256: String
        let alignment: Int
        let dataOffset: Int
        let metadata: [SyntheticEntry]
        let tensors: [SyntheticTensor]
    }

    /// A metadata key of the synthetic file; `value` is kept as JSON and compared per type.
    struct SyntheticEntry: Decodable {
        let key: String
        let type: String
        let elementType: String?
        let innerElementType: String?
        let value: JSONValue
    }

    struct SyntheticTensor: Decodable {
        let name: String
        let type: String
        let shape: [Int]
        let values: [Double]
        let offset: Int
        let byteCount: Int
    }

    // MARK: - Loading

    static let shared: Result<GGUFReference, any Error> = Result {
        guard let url = Bundle.module.url(forResource: "gguf-reference", withExtension: "json", subdirectory: "Fixtures")
        else { throw FixtureMissing(name: "gguf-reference.json") }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(GGUFReference.self, from: Data(contentsOf: url))
    }

    /// The reference, failing the calling test if it cannot be read.
    static func load() throws -> GGUFReference {
        do {
            return try shared.get()
        } catch {
            XCTFail("\(error)")
            throw error
        }
    }

    /// The path of a file in the test bundle's Fixtures folder.
    static func fixturePath(_ name: String) throws -> String {
        let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
        guard let url = Bundle.module.url(forResource: parts[0], withExtension: parts.count > 1 ? parts[1] : nil, subdirectory: "Fixtures")
        else { throw FixtureMissing(name: name) }
        return url.path
    }

    struct FixtureMissing: Error, CustomStringConvertible {
        let name: String
        var description: String { "Fixtures/\(name) is missing: run scripts/fixtures/make_gguf_fixture.py" }
    }
}

/// The test models (``TestSupport/modelsDirectory``), opened once per test run.
enum ModelFiles {
    static var directory: URL { TestSupport.modelsDirectory }

    /// The path of model `file`; a missing model fails the test (``TestSupport/modelPath(_:file:line:)``).
    static func path(_ file: String, testFile: StaticString = #filePath, line: UInt = #line) throws -> String {
        try TestSupport.modelPath(file, file: testFile, line: line)
    }

    /// Opens each reference model once per test run.
    nonisolated(unsafe) private static var opened: [String: GGUFFile] = [:]
    private static let lock = NSLock()

    static func open(_ file: String, testFile: StaticString = #filePath, line: UInt = #line) throws -> GGUFFile {
        let path = try path(file, testFile: testFile, line: line)
        return try lock.withLock {
            if let cached = opened[path] { return cached }
            let gguf = try GGUFFile(path: path)
            opened[path] = gguf
            return gguf
        }
    }
}
