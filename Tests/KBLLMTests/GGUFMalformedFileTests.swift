import Foundation
import XCTest
@testable import KBLLM
import KBSupport

/// Writes damaged copies of GGUF files into a temporary folder.
enum MalformedFiles {
    static let directory: URL = {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("kb-llm-tests-\(ProcessInfo.processInfo.processIdentifier)", isDirectory: true)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    /// Writes `bytes` to a temporary file and returns its path.
    static func write(_ bytes: Data, name: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try bytes.write(to: url)
        return url.path
    }

    /// The offset of the first occurrence of `needle` in `bytes`.
    static func offset(of needle: String, in bytes: Data) -> Int? {
        bytes.firstRange(of: Data(needle.utf8)).map { $0.lowerBound - bytes.startIndex }
    }
}

/// Garbage, truncated and corrupted files fail with a ``GGUFError`` that names the file, and never
/// crash or read outside the mapping.
final class GGUFMalformedFileTests: XCTestCase {
    func syntheticBytes() throws -> Data {
        let reference = try GGUFReference.load().synthetic
        return try Data(contentsOf: URL(fileURLWithPath: try GGUFReference.fixturePath(reference.file)))
    }

    /// Opens `bytes` as a file called `name` and returns the error, failing if it opens.
    func openError(_ bytes: Data, name: String, line: UInt = #line) throws -> GGUFError? {
        let path = try MalformedFiles.write(bytes, name: name)
        do {
            _ = try GGUFFile(path: path)
            XCTFail("\(name) opened", line: line)
            return nil
        } catch let error as GGUFError {
            XCTAssertEqual(error.file, path, line: line)
            XCTAssertTrue(error.description.hasPrefix(path + ": "), error.description, line: line)
            return error
        }
    }

    func testMissingFile() throws {
        let path = MalformedFiles.directory.appendingPathComponent("does-not-exist.gguf").path
        XCTAssertThrowsError(try GGUFFile(path: path)) { error in
            XCTAssertEqual((error as? GGUFError)?.problem, .cannotOpen(errno: ENOENT))
            XCTAssertTrue("\(error)".contains("does-not-exist.gguf"))
        }
    }

    func testEmptyFileIsTruncated() throws {
        let error = try openError(Data(), name: "empty.gguf")
        XCTAssertEqual(error?.problem, .truncated(offset: 0, needed: 4, fileSize: 0))
    }

    func testGarbageHasBadMagic() throws {
        let error = try openError(Data("<html>not a model</html>".utf8), name: "garbage.gguf")
        XCTAssertEqual(error?.problem, .badMagic(found: 0x6D74_683C))  // "<htm"
        XCTAssertTrue(error?.description.contains("not a GGUF file") ?? false)
    }

    func testUnsupportedVersionsAndBigEndian() throws {
        var bytes = try syntheticBytes()
        bytes[4] = 1
        XCTAssertEqual(try openError(bytes, name: "v1.gguf")?.problem, .unsupportedVersion(1))
        bytes[4] = 4
        XCTAssertEqual(try openError(bytes, name: "v4.gguf")?.problem, .unsupportedVersion(4))
        bytes.replaceSubrange(4..<8, with: [0, 0, 0, 3])  // version 3 written big-endian
        XCTAssertEqual(try openError(bytes, name: "big-endian.gguf")?.problem, .bigEndian)
    }

    /// Every cut of the file fails cleanly: in the header and tables as truncated, in the data
    /// section as a tensor out of bounds.
    func testEveryTruncationFails() throws {
        let bytes = try syntheticBytes()
        let file = try GGUFFile(path: try MalformedFiles.write(bytes, name: "whole.gguf"))
        let lastTensorEnd = file.tensors.map { file.dataOffset + $0.offset + $0.byteCount }.max() ?? 0
        XCTAssertLessThanOrEqual(lastTensorEnd, bytes.count)  // the writer pads the file's end
        let path = try MalformedFiles.write(Data(), name: "cut.gguf")
        // every cut through the header and tables; in the data section, cuts just inside each tensor
        let dataCuts = file.tensors.flatMap { [file.dataOffset + $0.offset + 1, file.dataOffset + $0.offset + $0.byteCount - 1] }
        for length in Array(0...file.dataOffset) + dataCuts {
            try bytes.prefix(length).write(to: URL(fileURLWithPath: path))
            do {
                _ = try GGUFFile(path: path)
                XCTFail("a file cut to \(length) bytes opened")
            } catch let error as GGUFError {
                XCTAssertEqual(error.file, path)
                switch error.problem {
                case .truncated: XCTAssertLessThanOrEqual(length, file.dataOffset, "\(error)")
                case .tensorOutOfBounds: XCTAssertGreaterThan(length, file.dataOffset - file.alignment, "\(error)")
                default: XCTFail("cut to \(length): \(error)")
                }
            }
        }
    }

    func testUnknownTensorType() throws {
        var bytes = try syntheticBytes()
        // "syn.f32" entry: name, n_dims (u32), 2 dims (u64), then the type (u32)
        let name = try XCTUnwrap(MalformedFiles.offset(of: "syn.f32", in: bytes))
        let typeOffset = name + 7 + 4 + 16
        XCTAssertEqual(bytes[typeOffset], 0)  // F32
        bytes[typeOffset] = 4  // Q4_2, removed from ggml
        XCTAssertEqual(try openError(bytes, name: "type4.gguf")?.problem, .unknownTensorType(tensor: "syn.f32", rawType: 4))
        bytes[typeOffset] = 99
        XCTAssertEqual(try openError(bytes, name: "type99.gguf")?.problem, .unknownTensorType(tensor: "syn.f32", rawType: 99))
    }

    func testTensorOffsetsAreCheckedForAlignmentAndBounds() throws {
        var bytes = try syntheticBytes()
        let offsetField = try XCTUnwrap(MalformedFiles.offset(of: "syn.f32", in: bytes)) + 7 + 4 + 16 + 4
        bytes[offsetField] = 8
        XCTAssertEqual(try openError(bytes, name: "misaligned.gguf")?.problem,
                       .misalignedTensor(tensor: "syn.f32", offset: 8, alignment: 64))
        bytes.replaceSubrange(offsetField..<offsetField + 8, with: [0, 0, 0, 0, 0, 0, 0, 0x40])  // 2^62
        guard case .tensorOutOfBounds(let tensor, _, _, _) = try openError(bytes, name: "far.gguf")?.problem else {
            return XCTFail("expected tensorOutOfBounds")
        }
        XCTAssertEqual(tensor, "syn.f32")
    }

    func testInvalidValueTypeAndHugeCounts() throws {
        var bytes = try syntheticBytes()
        let key = try XCTUnwrap(MalformedFiles.offset(of: "test.uint8", in: bytes))
        bytes[key + 10] = 13  // value type after the key
        XCTAssertEqual(try openError(bytes, name: "valuetype.gguf")?.problem,
                       .invalidValueType(key: "test.uint8", rawType: 13))

        bytes = try syntheticBytes()
        bytes.replaceSubrange(16..<24, with: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F])  // kv_count
        guard case .truncated = try openError(bytes, name: "kvcount.gguf")?.problem else {
            return XCTFail("expected truncated")
        }

        bytes = try syntheticBytes()
        let array = try XCTUnwrap(MalformedFiles.offset(of: "test.array_uint8", in: bytes)) + 16 + 4 + 4
        bytes.replaceSubrange(array..<array + 8, with: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        guard case .truncated = try openError(bytes, name: "arraycount.gguf")?.problem else {
            return XCTFail("expected truncated")
        }
    }

    func testInvalidAlignment() throws {
        var bytes = try syntheticBytes()
        let key = try XCTUnwrap(MalformedFiles.offset(of: "general.alignment", in: bytes))
        let value = key + 17 + 4
        XCTAssertEqual(bytes[value], 64)
        bytes[value] = 48
        XCTAssertEqual(try openError(bytes, name: "align48.gguf")?.problem, .invalidAlignment("48 is not a power of two"))
        bytes[value] = 0
        XCTAssertEqual(try openError(bytes, name: "align0.gguf")?.problem, .invalidAlignment("0 is not a power of two"))
    }

    /// Random byte changes in the header and tables either open or throw a GGUFError: never a crash.
    func testRandomCorruptionNeverCrashes() throws {
        let original = try syntheticBytes()
        let tablesEnd = try GGUFFile(path: try MalformedFiles.write(original, name: "whole.gguf")).dataOffset
        var random = SplitMix64(seed: 0x6767_7566)
        let path = try MalformedFiles.write(original, name: "fuzz.gguf")
        for _ in 0..<1500 {
            var bytes = original
            for _ in 0..<Int(random.next() % 3 + 1) {
                let position = Int(random.next() % UInt64(tablesEnd))
                bytes[position] = UInt8(truncatingIfNeeded: random.next())
            }
            try bytes.write(to: URL(fileURLWithPath: path))
            do {
                let file = try GGUFFile(path: path)
                for key in file.metadata.keys {  // decoding what opened must not crash either
                    _ = try? file.metadata[key]?.arrayValue?.values()
                }
            } catch let error as GGUFError {
                XCTAssertEqual(error.file, path)
            }
        }
    }
}
