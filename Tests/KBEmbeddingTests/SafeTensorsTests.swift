import Foundation
import XCTest
@testable import KBEmbedding
import KBSupport

/// ``SafeTensorsFile`` on small files written here, good and broken, and on the MiniLM weights.
final class SafeTensorsTests: XCTestCase {
    /// A safetensors file: the header JSON (padded with spaces to 8 bytes, as writers do) and data.
    static func fileBytes(header: String, data: [UInt8]) -> [UInt8] {
        var json = Array(header.utf8)
        while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var length = UInt64(json.count).littleEndian
        return withUnsafeBytes(of: &length) { Array($0) } + json + data
    }

    func write(_ bytes: [UInt8], name: String = "model.safetensors") throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kb-safetensors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    /// Asserts that opening `bytes` as a safetensors file throws an error naming the file.
    func assertOpenFails(_ bytes: [UInt8], _ check: (SafeTensorsError) -> Bool, line: UInt = #line) throws {
        let url = try write(bytes)
        XCTAssertThrowsError(try SafeTensorsFile(url: url), line: line) { error in
            guard let error = error as? SafeTensorsError else { return XCTFail("unexpected \(error)", line: line) }
            XCTAssertTrue(check(error), "unexpected \(error)", line: line)
            XCTAssertTrue(error.description.contains(url.path), "\(error) does not name the file", line: line)
        }
    }

    static func bytes<T>(_ values: [T]) -> [UInt8] {
        values.withUnsafeBytes { Array($0) }
    }

    static let validHeader = """
        {"__metadata__":{"format":"pt"},\
        "a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},\
        "h":{"dtype":"F16","shape":[3],"data_offsets":[16,22]},\
        "b":{"dtype":"BF16","shape":[2],"data_offsets":[22,26]},\
        "i":{"dtype":"I64","shape":[1],"data_offsets":[26,34]}}
        """
    static let validData: [UInt8] =
        bytes([Float(1), -2, 0.5, 3e-8])
        + bytes([UInt16(0x3c00), 0xc000, 0x0001])  // F16: 1, -2, 2^-24 (smallest subnormal)
        + bytes([UInt16(0x3f80), 0x4049])  // BF16: 1, 3.140625
        + bytes([Int64(7)])

    func testReadsF32F16BF16AndMetadata() throws {
        let url = try write(Self.fileBytes(header: Self.validHeader, data: Self.validData))
        let file = try SafeTensorsFile(url: url)
        XCTAssertEqual(file.metadata, ["format": "pt"])
        XCTAssertEqual(Set(file.tensors.keys), ["a", "h", "b", "i"])
        XCTAssertEqual(file.tensors["a"]?.shape, [2, 2])
        XCTAssertEqual(try file.floats("a", shape: [2, 2]), [1, -2, 0.5, 3e-8])
        XCTAssertEqual(try file.floats("h"), [1, -2, Float(sign: .plus, exponent: -24, significand: 1)])
        XCTAssertEqual(try file.floats("b"), [1, 3.140625])
        XCTAssertEqual(file.tensors["i"]?.dtype, .i64)
    }

    func testHalfConversionCoversSpecialValues() {
        XCTAssertEqual(Float(f16Bits: 0x0000), 0)
        XCTAssertEqual(Float(f16Bits: 0x8000).sign, .minus)
        XCTAssertEqual(Float(f16Bits: 0x7bff), 65504)
        XCTAssertEqual(Float(f16Bits: 0x03ff), Float(1023) * Float(sign: .plus, exponent: -24, significand: 1))
        XCTAssertEqual(Float(f16Bits: 0x3555), 0.333251953125)
        XCTAssertEqual(Float(f16Bits: 0x7c00), .infinity)
        XCTAssertEqual(Float(f16Bits: 0xfc00), -.infinity)
        XCTAssertTrue(Float(f16Bits: 0x7e00).isNaN)
    }

    func testWrongRequestsThrowNamingTheTensor() throws {
        let url = try write(Self.fileBytes(header: Self.validHeader, data: Self.validData))
        let file = try SafeTensorsFile(url: url)
        XCTAssertThrowsError(try file.floats("nope")) {
            XCTAssertEqual($0 as? SafeTensorsError, .missingTensor(file: url, tensor: "nope"))
        }
        XCTAssertThrowsError(try file.floats("a", shape: [4])) {
            XCTAssertEqual($0 as? SafeTensorsError, .shapeMismatch(file: url, tensor: "a", expected: [4], actual: [2, 2]))
        }
        XCTAssertThrowsError(try file.floats("i")) {
            XCTAssertEqual($0 as? SafeTensorsError, .notFloatingPoint(file: url, tensor: "i", dtype: "I64"))
        }
    }

    func testTruncatedFilesThrowNamingTheFile() throws {
        let good = Self.fileBytes(header: Self.validHeader, data: Self.validData)
        for cut in [0, 5, 8, 40, good.count - Self.validData.count - 1] {
            try assertOpenFails(Array(good.prefix(cut))) {
                if case .truncated = $0 { return true }
                return false
            }
        }
        // Data cut short: the last tensor's offsets now point past the end.
        try assertOpenFails(Array(good.dropLast(3))) {
            if case .offsetsOutOfRange(_, "i", _) = $0 { return true }
            return false
        }
    }

    func testGarbageThrowsNamingTheFile() throws {
        var generator = SystemRandomNumberGenerator()
        let garbage = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try assertOpenFails(garbage) { _ in true }
        try assertOpenFails(Array("This is not a safetensors file, just some text.\n".utf8)) { _ in true }
    }

    func testBadHeaderJSONThrows() throws {
        for header in ["{\"a\": {\"dtype\": \"F32\"", "[1, 2, 3]", "{\"a\": {\"dtype\": \"F32\", \"shape\": [1]}}",
                       "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0]}}", "{\"a\": 3}"] {
            try assertOpenFails(Self.fileBytes(header: header, data: [0, 0, 0, 0])) {
                if case .badHeader = $0 { return true }
                return false
            }
        }
    }

    func testOffsetsOutOfRangeThrow() throws {
        for offsets in ["[0, 8]", "[4, 0]", "[-4, 0]", "[0, 2]"] {
            let header = "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":\(offsets)}}"
            try assertOpenFails(Self.fileBytes(header: header, data: [0, 0, 0, 0])) {
                if case .offsetsOutOfRange(_, "x", _) = $0 { return true }
                return false
            }
        }
    }

    func testUnknownDTypeThrows() throws {
        let header = "{\"x\":{\"dtype\":\"F12\",\"shape\":[1],\"data_offsets\":[0,4]}}"
        try assertOpenFails(Self.fileBytes(header: header, data: [0, 0, 0, 0])) {
            $0 == .unknownDType(file: $0.file, tensor: "x", dtype: "F12")
        }
    }

    func testMissingFileThrowsUnreadable() {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kb-no-such-\(UUID()).safetensors")
        XCTAssertThrowsError(try SafeTensorsFile(url: url)) { error in
            guard case .unreadable(url, _)? = error as? SafeTensorsError else { return XCTFail("unexpected \(error)") }
            XCTAssertTrue("\(error)".contains(url.path))
        }
    }

    func testMiniLMWeightsHaveTheBERTLayout() throws {
        let url = WordPieceTokenizerTests.modelsDirectory.appendingPathComponent("all-minilm-l6-v2/model.safetensors")
        guard FileManager.default.fileExists(atPath: url.path) else {
            return XCTFail("\(url.path) is missing: run scripts/fetch-models.sh (or set KB_MODELS_DIR)")
        }
        let file = try SafeTensorsFile(url: url)
        XCTAssertEqual(file.fileSize, 90_868_376)
        XCTAssertEqual(file.tensors["embeddings.word_embeddings.weight"]?.shape, [30_522, 384])
        XCTAssertEqual(file.tensors["encoder.layer.5.output.dense.weight"]?.shape, [384, 1536])
        XCTAssertEqual(file.tensors.values.filter { $0.dtype == .f32 }.count, 103)
    }

}

private extension SafeTensorsError {
    var file: URL {
        switch self {
        case let .unreadable(file, _), let .truncated(file, _), let .badHeader(file, _),
             let .offsetsOutOfRange(file, _, _), let .unknownDType(file, _, _), let .notFloatingPoint(file, _, _),
             let .missingTensor(file, _), let .shapeMismatch(file, _, _, _):
            return file
        }
    }
}
