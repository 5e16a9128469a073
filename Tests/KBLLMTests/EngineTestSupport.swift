import Foundation
import KBTestSupport
import XCTest
@testable import KBLLM

/// Models for the engine tests: loaded once per test run. A missing model file fails the test
/// (``TestSupport/modelPath(_:file:line:)``: one policy for every test target).
enum EngineModels {
    static let smolLM2 = "smollm2-135m-instruct-q4_1.gguf"
    static let qwen2 = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"

    /// The path of model `file`, or a failure when it is absent.
    static func path(_ file: String, testFile: StaticString = #filePath, line: UInt = #line) throws -> String {
        try TestSupport.modelPath(file, file: testFile, line: line)
    }

    nonisolated(unsafe) private static var loaded: [String: LanguageModel] = [:]
    private static let lock = NSLock()

    /// The model `file` with 2 threads and no prefix cache (tests that need one make their own).
    /// - Parameter products: `.float` for the exact maths (tests of the forward pass and of cache
    ///   and batching logic, where int8 activation rounding would blur the comparison; with a
    ///   float32 KV cache), the default for what kb runs (int8 activations, F16 KV cache).
    static func model(
        _ file: String, products: WeightMatrix.Arithmetic = .quantizedActivations,
        testFile: StaticString = #filePath, line: UInt = #line
    ) throws -> LanguageModel {
        let path = try path(file, testFile: testFile, line: line)
        let key = "\(path) \(products)"
        return try lock.withLock {
            if let model = loaded[key] { return model }
            let model = try LanguageModel(path: path, options: .init(threads: 2, contextLength: 2048, kvCacheBytes: 64 << 20, sharePrefixes: false, products: products,
                                                                               kvCache: products == .float ? .f32 : .f16))
            loaded[key] = model
            return model
        }
    }
}

/// The index of the largest value (the first among equals), as a greedy sampler picks it.
func argmax(_ values: ArraySlice<Float>) -> Int {
    var best = values.startIndex
    for i in values.indices where values[i] > values[best] { best = i }
    return best - values.startIndex
}

/// Writes minimal GGUF v3 files (metadata and F32 tensors) for tests of the model loader.
struct GGUFWriter {
    enum Value {
        case uint32(UInt32), float32(Float), string(String), bool(Bool)
    }

    var metadata: [(String, Value)] = []
    /// Name, shape (innermost first) and F32 data.
    var tensors: [(String, [Int], [Float])] = []

    func bytes() -> Data {
        var data = Data()
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) } }
        func append(_ string: String) {
            append(UInt64(string.utf8.count))
            data.append(contentsOf: Array(string.utf8))
        }
        data.append(contentsOf: Array("GGUF".utf8))
        append(UInt32(3))
        append(UInt64(tensors.count))
        append(UInt64(metadata.count))
        for (key, value) in metadata {
            append(key)
            switch value {
            case .uint32(let v): append(UInt32(4)); append(v)
            case .float32(let v): append(UInt32(6)); append(v.bitPattern)
            case .bool(let v): append(UInt32(7)); data.append(v ? 1 : 0)
            case .string(let v): append(UInt32(8)); append(v)
            }
        }
        var offset = 0
        for (name, shape, values) in tensors {
            append(name)
            append(UInt32(shape.count))
            for d in shape { append(UInt64(d)) }
            append(UInt32(0))  // F32
            append(UInt64(offset))
            offset += (values.count * 4 + 31) / 32 * 32
        }
        while data.count % 32 != 0 { data.append(0) }
        for (_, _, values) in tensors {
            for v in values { append(v.bitPattern) }
            while data.count % 32 != 0 { data.append(0) }
        }
        return data
    }

    /// Writes the file to a temporary path and returns it.
    func write(name: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kb-\(UUID().uuidString)-\(name)")
        try bytes().write(to: url)
        return url.path
    }
}
