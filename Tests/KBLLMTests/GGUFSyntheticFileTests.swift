import Foundation
import KBSupport
import XCTest
@testable import KBLLM

/// Reads `Fixtures/gguf-synthetic.gguf`, written by llama.cpp's `GGUFWriter`: one metadata key of
/// every value type (nested arrays, unicode and empty strings, 64-bit extremes), `general.alignment`
/// 64, and one tensor of each type kb decodes.
final class GGUFSyntheticFileTests: XCTestCase {
    func openSynthetic() throws -> (GGUFFile, GGUFReference.Synthetic) {
        let reference = try GGUFReference.load().synthetic
        return (try GGUFFile(path: try GGUFReference.fixturePath(reference.file)), reference)
    }

    func testHeaderAlignmentAndDataOffset() throws {
        let (file, reference) = try openSynthetic()
        XCTAssertEqual(file.version, 3)
        XCTAssertEqual(file.alignment, 64)
        XCTAssertEqual(file.alignment, reference.alignment)
        XCTAssertEqual(file.dataOffset, reference.dataOffset)
        XCTAssertEqual(file.dataOffset % 64, 0)
        XCTAssertEqual(file.metadata.keys, reference.metadata.map(\.key))
    }

    func testEveryValueTypeReadsBack() throws {
        let (file, reference) = try openSynthetic()
        for entry in reference.metadata {
            guard let value = file.metadata[entry.key] else {
                XCTFail("\(entry.key) missing")
                continue
            }
            XCTAssertEqual("\(value.type)", entry.type, entry.key)
            XCTAssertEqual(try Self.json(value), entry.value.numbersAsDoubles, entry.key)
            if let array = value.arrayValue {
                XCTAssertEqual("\(array.elementType)", entry.elementType, entry.key)
                if let inner = entry.innerElementType {
                    for row in try array.values() {
                        XCTAssertEqual(row.arrayValue.map { "\($0.elementType)" }, inner, entry.key)
                    }
                }
            }
        }
    }

    func testScalarAccessorsAndExtremes() throws {
        let metadata = try openSynthetic().0.metadata
        XCTAssertEqual(try metadata.int("test.uint8"), 200)
        XCTAssertEqual(try metadata.int("test.int8"), -100)
        XCTAssertEqual(try metadata.int("test.uint32"), 4_000_000_000)
        XCTAssertEqual(try metadata.int("test.int64"), -9_000_000_000_000_000_000)
        XCTAssertEqual(metadata["test.uint64"], .uint64(18_000_000_000_000_000_000))
        XCTAssertThrowsError(try metadata.int("test.uint64"))  // above Int.max: no silent wrap
        XCTAssertEqual(try metadata.float("test.float32"), 0.1)
        XCTAssertEqual(try metadata.double("test.float64"), 2.718281828459045)
        XCTAssertEqual(try metadata.bool("test.bool_true"), true)
        XCTAssertEqual(try metadata.bool("test.bool_false"), false)
        XCTAssertEqual(try metadata.string("test.string"), "Grüße, 世界 🌍")
        XCTAssertEqual(try metadata.string("test.empty_string"), "")
        XCTAssertEqual(try metadata.strings("test.array_string"), ["a", "", "ĠHello", "<|im_end|>", "日本"])
        XCTAssertEqual(try metadata.integers("test.array_uint8"), [0, 1, 255])
        XCTAssertEqual(try metadata.integers("test.array_int32"), [-1, 0, 2_147_483_647])
        XCTAssertEqual(try metadata.floats("test.array_float32"), [1.5, -0.25, 1e-8])
        XCTAssertEqual(try metadata.array("test.array_bool").bools(), [true, false, true])
        let nested = try metadata.array("test.array_nested").values().map { try $0.arrayValue?.integers() }
        XCTAssertEqual(nested, [[1, 2, 3], [4], [5, 6]])
    }

    func testTensorTableAndShapes() throws {
        let (file, reference) = try openSynthetic()
        XCTAssertEqual(file.tensors.map(\.name), reference.tensors.map(\.name))
        for (info, expected) in zip(file.tensors, reference.tensors) {
            XCTAssertEqual(info.type.name, expected.type, expected.name)
            XCTAssertEqual(info.shape, expected.shape, expected.name)
            XCTAssertEqual(info.offset, expected.offset, expected.name)
            XCTAssertEqual(info.byteCount, expected.byteCount, expected.name)
            XCTAssertEqual(info.offset % 64, 0, expected.name)
        }
        let cube = try XCTUnwrap(file.tensorInfo(named: "syn.f32_3d"))
        XCTAssertEqual(cube.shape, [4, 3, 2])
        XCTAssertEqual(cube.rowCount, 6)
        XCTAssertEqual(cube.elementCount, 24)
    }

    /// A version-2 file differs from version 3 only in its version field.
    func testVersion2FileReadsTheSame() throws {
        let (file, _) = try openSynthetic()
        var bytes = try Data(contentsOf: URL(fileURLWithPath: file.path))
        bytes[4] = 2
        let path = try MalformedFiles.write(bytes, name: "version2.gguf")
        let version2 = try GGUFFile(path: path)
        XCTAssertEqual(version2.version, 2)
        XCTAssertEqual(version2.tensors, file.tensors)
        XCTAssertEqual(version2.metadata.keys, file.metadata.keys)
        XCTAssertEqual(try version2.metadata.string("test.string"), "Grüße, 世界 🌍")
    }

    /// A GGUF value as the JSON the fixture script wrote for it.
    static func json(_ value: GGUFValue) throws -> JSONValue {
        switch value {
        case .bool(let v): return .bool(v)
        case .string(let v): return .string(v)
        case .float32(let v): return .double(Double(v))
        case .float64(let v): return .double(v)
        case .uint64(let v): return .double(Double(v))
        case .int64(let v): return .double(Double(v))
        case .array(let array): return .array(try array.values().map(json))
        default: return .double(Double(value.intValue ?? 0))
        }
    }
}
