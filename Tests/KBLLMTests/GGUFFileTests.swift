import Foundation
import XCTest
@testable import KBLLM

/// Holds ``GGUFFile`` to llama.cpp's `gguf` Python package: the metadata and tensor tables of
/// SmolLM2-135M (Q4_1) and Qwen2.5-Coder-0.5B (Q4_K_M), and a synthetic file with every value type
/// (`Fixtures/gguf-reference.json`, `Fixtures/gguf-synthetic.gguf`).
final class GGUFFileTests: XCTestCase {
    static let smolLM2 = "smollm2-135m-instruct-q4_1.gguf"
    static let qwen2 = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"

    // MARK: - Real models against the reference

    func testModelHeadersMatchReference() throws {
        for model in try GGUFReference.load().models {
            let file = try ModelFiles.open(model.file)
            XCTAssertEqual(file.version, model.version, model.file)
            XCTAssertEqual(file.alignment, model.alignment, model.file)
            XCTAssertEqual(file.dataOffset, model.dataOffset, model.file)
            XCTAssertEqual(try file.metadata.architecture, model.architecture, model.file)
        }
    }

    func testEveryMetadataKeyTypeAndValueMatchesReference() throws {
        for model in try GGUFReference.load().models {
            let metadata = try ModelFiles.open(model.file).metadata
            XCTAssertEqual(metadata.keys, model.keys, "key order in \(model.file)")
            for key in model.keys {
                guard let expected = model.metadata[key], let value = metadata[key] else {
                    XCTFail("\(model.file): \(key) missing")
                    continue
                }
                XCTAssertEqual("\(value.type)", expected.type, "\(model.file): \(key)")
                if let array = value.arrayValue {
                    try assertArray(array, matches: expected, "\(model.file): \(key)")
                } else {
                    XCTAssertEqual(Self.scalar(value), expected.value, "\(model.file): \(key)")
                }
            }
        }
    }

    /// The facts a model loader reads, through the typed accessors, spelled out.
    func testTypedAccessorsReadQwen2Hyperparameters() throws {
        let metadata = try ModelFiles.open(Self.qwen2).metadata
        XCTAssertEqual(try metadata.architecture, "qwen2")
        XCTAssertEqual(try metadata.int("qwen2.block_count"), 24)
        XCTAssertEqual(try metadata.int("qwen2.embedding_length"), 896)
        XCTAssertEqual(try metadata.int("qwen2.feed_forward_length"), 4864)
        XCTAssertEqual(try metadata.int("qwen2.attention.head_count"), 14)
        XCTAssertEqual(try metadata.int("qwen2.attention.head_count_kv"), 2)
        XCTAssertEqual(try metadata.int("qwen2.context_length"), 32768)
        XCTAssertEqual(try metadata.float("qwen2.rope.freq_base"), 1_000_000)
        XCTAssertEqual(try metadata.float("qwen2.attention.layer_norm_rms_epsilon"), 1e-6)
        XCTAssertEqual(try metadata.string("tokenizer.ggml.model"), "gpt2")
        XCTAssertEqual(try metadata.string("tokenizer.ggml.pre"), "qwen2")
        XCTAssertEqual(try metadata.int("tokenizer.ggml.bos_token_id"), 151_643)
        XCTAssertEqual(try metadata.int("tokenizer.ggml.eos_token_id"), 151_645)
        XCTAssertEqual(try metadata.bool("tokenizer.ggml.add_bos_token"), false)
        XCTAssertEqual(try metadata.int("qwen2.rope.dimension_count", default: 64), 64)  // absent: default

        let tokens = try metadata.strings("tokenizer.ggml.tokens")
        XCTAssertEqual(tokens.count, 151_936)
        XCTAssertEqual(Array(tokens.prefix(5)), ["!", "\"", "#", "$", "%"])
        XCTAssertEqual(tokens[151_643], "<|endoftext|>")
        XCTAssertEqual(tokens[151_645], "<|im_end|>")
        let types = try metadata.integers("tokenizer.ggml.token_type")
        XCTAssertEqual(types.count, tokens.count)
        XCTAssertEqual(types[151_645], 3)  // control
        XCTAssertEqual(try metadata.strings("tokenizer.ggml.merges").first, "Ġ Ġ")
    }

    func testTypedAccessorsReadSmolLM2Hyperparameters() throws {
        let metadata = try ModelFiles.open(Self.smolLM2).metadata
        XCTAssertEqual(try metadata.architecture, "llama")
        XCTAssertEqual(try metadata.int("llama.block_count"), 30)
        XCTAssertEqual(try metadata.int("llama.embedding_length"), 576)
        XCTAssertEqual(try metadata.int("llama.attention.head_count"), 9)
        XCTAssertEqual(try metadata.int("llama.attention.head_count_kv"), 3)
        XCTAssertEqual(try metadata.int("llama.vocab_size"), 49152)
        XCTAssertEqual(try metadata.float("llama.rope.freq_base"), 100_000)
        XCTAssertEqual(try metadata.string("tokenizer.ggml.pre"), "smollm")
        XCTAssertEqual(try metadata.int("tokenizer.ggml.bos_token_id"), 1)
        XCTAssertEqual(try metadata.int("tokenizer.ggml.eos_token_id"), 2)
        XCTAssertEqual(try metadata.strings("tokenizer.ggml.tokens").count, 49152)
    }

    func testChatTemplatePrefixMatchesReference() throws {
        for model in try GGUFReference.load().models {
            let template = try ModelFiles.open(model.file).metadata.string("tokenizer.chat_template")
            XCTAssertEqual(String(template.unicodeScalars.prefix(80)), model.chatTemplatePrefix, model.file)
            XCTAssertTrue(template.contains("<|im_start|>"), "ChatML in \(model.file)")
        }
    }

    func testTensorTableMatchesReference() throws {
        for model in try GGUFReference.load().models {
            let file = try ModelFiles.open(model.file)
            XCTAssertEqual(file.tensors.count, model.tensorCount, model.file)
            XCTAssertEqual(file.tensors.count, model.tensors.count, model.file)
            for (info, expected) in zip(file.tensors, model.tensors) {
                XCTAssertEqual(info.name, expected.name, model.file)
                XCTAssertEqual(info.type.name, expected.type, "\(model.file): \(expected.name)")
                XCTAssertEqual(info.shape, expected.shape, "\(model.file): \(expected.name)")
                XCTAssertEqual(info.offset, expected.offset, "\(model.file): \(expected.name)")
                XCTAssertEqual(info.byteCount, expected.byteCount, "\(model.file): \(expected.name)")
                XCTAssertEqual(file.tensorInfo(named: expected.name), info)
            }
        }
    }

    func testTensorViewPointsIntoTheMapping() throws {
        let file = try ModelFiles.open(Self.qwen2)
        let tensor = try file.tensor(named: "blk.0.ffn_down.weight")
        XCTAssertEqual(tensor.type, .q6K)
        XCTAssertEqual(tensor.shape, [4864, 896])
        XCTAssertEqual(tensor.info.rowLength, 4864)
        XCTAssertEqual(tensor.info.rowCount, 896)
        XCTAssertEqual(tensor.info.rowByteCount, 4864 / 256 * 210)
        XCTAssertEqual(tensor.bytes.count, 896 * 4864 / 256 * 210)
        XCTAssertEqual(tensor.row(1).baseAddress, tensor.bytes.baseAddress.map { $0 + 19 * 210 })
        XCTAssertEqual(Int(bitPattern: tensor.bytes.baseAddress) % file.alignment, 0)
        let blocks = try tensor.blocks(as: BlockQ6K.self)
        XCTAssertEqual(blocks.count, 896 * 19)
        XCTAssertThrowsError(try tensor.blocks(as: BlockQ4K.self))
        XCTAssertThrowsError(try file.tensor(named: "no.such.tensor")) { error in
            XCTAssertEqual((error as? GGUFError)?.problem, .tensorNotFound("no.such.tensor"))
            XCTAssertTrue("\(error)".contains(Self.qwen2), "\(error)")
        }
    }

    func testAccessorErrorsNameFileAndKey() throws {
        let metadata = try ModelFiles.open(Self.smolLM2).metadata
        XCTAssertThrowsError(try metadata.int("llama.no_such_key")) { error in
            XCTAssertEqual((error as? GGUFError)?.problem, .missingKey("llama.no_such_key"))
            XCTAssertTrue("\(error)".contains(Self.smolLM2), "\(error)")
        }
        XCTAssertThrowsError(try metadata.int("general.name")) { error in
            XCTAssertEqual((error as? GGUFError)?.problem,
                           .typeMismatch(key: "general.name", expected: "an integer", found: "string"))
        }
        XCTAssertThrowsError(try metadata.strings("tokenizer.ggml.token_type")) { error in
            XCTAssertEqual((error as? GGUFError)?.problem, .typeMismatch(
                key: "tokenizer.ggml.token_type", expected: "array<string>", found: "array<int32>"))
        }
        XCTAssertThrowsError(try metadata.int("general.name", default: 3))  // present, wrong type
    }

    #if os(Linux)
    /// Opening maps the file instead of reading it: resident memory grows by far less than the
    /// 491 MB of the Qwen2 file (only the header, metadata and tensor table pages are touched).
    func testOpeningDoesNotReadTheWeights() throws {
        let path = try ModelFiles.path(Self.qwen2)
        let before = try Self.residentBytes()
        let file = try GGUFFile(path: path)
        let after = try Self.residentBytes()
        XCTAssertEqual(file.fileSize, 491_400_064)
        XCTAssertLessThan(after - before, 64 << 20, "opening grew resident memory by \(after - before) bytes")
    }

    /// Resident set size from /proc/self/statm (second field, in pages).
    static func residentBytes() throws -> Int {
        let statm = try String(contentsOfFile: "/proc/self/statm", encoding: .utf8)
        let fields = statm.split(separator: " ")
        return try XCTUnwrap(fields.count > 1 ? Int(fields[1]) : nil) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
    #endif

    // MARK: - Helpers

    static func scalar(_ value: GGUFValue) -> GGUFReference.Scalar? {
        switch value {
        case .uint8(let v): .uint(UInt64(v))
        case .uint16(let v): .uint(UInt64(v))
        case .uint32(let v): .uint(UInt64(v))
        case .uint64(let v): .uint(v)
        case .int8(let v): .int(Int64(v))
        case .int16(let v): .int(Int64(v))
        case .int32(let v): .int(Int64(v))
        case .int64(let v): .int(v)
        case .float32(let v): .float(Double(v))
        case .float64(let v): .float(v)
        case .bool(let v): .bool(v)
        case .string(let v): .string(v)
        case .array: nil
        }
    }

    func assertArray(_ array: GGUFArray, matches expected: GGUFReference.MetadataEntry, _ message: String) throws {
        XCTAssertEqual("\(array.elementType)", expected.elementType, message)
        XCTAssertEqual(array.count, expected.count, message)
        let values = try array.values().compactMap(Self.scalar)
        let first = expected.first ?? [], last = expected.last ?? []
        XCTAssertEqual(Array(values.prefix(first.count)), first, message)
        XCTAssertEqual(Array(values.suffix(last.count)), last, message)
        switch array.elementType {  // the typed decoders agree with the generic one
        case .string:
            XCTAssertEqual(try array.strings().map { GGUFReference.Scalar.string($0) }, values, message)
        case .int32, .uint32, .int8, .uint8, .int16, .uint16, .int64:
            XCTAssertEqual(try array.integers(), try array.values().compactMap(\.intValue), message)
        default:
            break
        }
    }
}
