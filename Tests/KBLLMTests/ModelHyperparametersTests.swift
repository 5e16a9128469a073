import Foundation
import XCTest
@testable import KBLLM

/// Hyperparameters and weights come from the file's metadata and tensor table; bad files give
/// errors naming the file and the key or tensor.
final class ModelHyperparametersTests: XCTestCase {
    func testSmolLM2IsLlamaWithAdjacentPairRoPEAndTiedOutput() throws {
        let model = try EngineModels.model(EngineModels.smolLM2)
        let h = model.hyperparameters
        XCTAssertEqual(h.architecture, .llama)
        XCTAssertEqual(h.ropeStyle, .adjacentPairs)
        XCTAssertEqual([h.layerCount, h.embeddingLength, h.feedForwardLength, h.headCount, h.kvHeadCount], [30, 576, 1536, 9, 3])
        XCTAssertEqual([h.headDimension, h.ropeDimension, h.trainedContextLength, h.vocabularySize], [64, 64, 8192, 49152])
        XCTAssertEqual(h.ropeFrequencyBase, 100_000)
        XCTAssertEqual(h.rmsNormEpsilon, 1e-5)
        XCTAssertEqual(h.groupSize, 3)
        XCTAssertTrue(model.transformer.weights.tiedOutput, "SmolLM2 has no output.weight")
        XCTAssertNil(model.transformer.weights.layers[0].queryBias)
        XCTAssertEqual(model.chatTemplate?.hasPrefix("{% for message in messages %}"), true)
    }

    func testQwen2HasNeoxRoPEBiasesAndItsOwnOutput() throws {
        let model = try EngineModels.model(EngineModels.qwen2)
        let h = model.hyperparameters
        XCTAssertEqual(h.architecture, .qwen2)
        XCTAssertEqual(h.ropeStyle, .halves)
        XCTAssertEqual([h.layerCount, h.embeddingLength, h.feedForwardLength, h.headCount, h.kvHeadCount], [24, 896, 4864, 14, 2])
        XCTAssertEqual([h.headDimension, h.ropeDimension, h.trainedContextLength, h.vocabularySize], [64, 64, 32768, 151_936])
        XCTAssertEqual(h.ropeFrequencyBase, 1_000_000)
        XCTAssertEqual(h.rmsNormEpsilon, 1e-6)
        XCTAssertFalse(model.transformer.weights.tiedOutput)
        let layer = model.transformer.weights.layers[23]
        XCTAssertEqual(layer.queryBias?.count, 896)
        XCTAssertEqual(layer.keyBias?.count, 128)
        XCTAssertEqual(layer.valueBias?.count, 128)
    }

    // MARK: - Synthetic files

    /// A tiny llama-shaped model: 1 layer, embedding 8, 2 heads, 1 KV head, FFN 16, vocabulary 4.
    func tinyLlama(architecture: String = "llama", dropping dropped: String? = nil, reshaping reshaped: String? = nil) -> GGUFWriter {
        var writer = GGUFWriter()
        let a = architecture
        writer.metadata = [
            ("general.architecture", .string(a)),
            ("\(a).block_count", .uint32(1)), ("\(a).embedding_length", .uint32(8)),
            ("\(a).feed_forward_length", .uint32(16)), ("\(a).attention.head_count", .uint32(2)),
            ("\(a).attention.head_count_kv", .uint32(1)), ("\(a).context_length", .uint32(64)),
            ("\(a).attention.layer_norm_rms_epsilon", .float32(1e-5)), ("\(a).vocab_size", .uint32(4)),
        ]
        let shapes: [(String, [Int])] = [
            ("token_embd.weight", [8, 4]), ("output_norm.weight", [8]),
            ("blk.0.attn_norm.weight", [8]), ("blk.0.ffn_norm.weight", [8]),
            ("blk.0.attn_q.weight", [8, 8]), ("blk.0.attn_k.weight", [8, 4]), ("blk.0.attn_v.weight", [8, 4]),
            ("blk.0.attn_output.weight", [8, 8]),
            ("blk.0.ffn_gate.weight", [8, 16]), ("blk.0.ffn_up.weight", [8, 16]), ("blk.0.ffn_down.weight", [16, 8]),
        ]
        for (name, shape) in shapes where name != dropped {
            let shape = name == reshaped ? shape.reversed() + [1] : shape
            writer.tensors.append((name, shape, Array(repeating: 0.5, count: shape.reduce(1, *))))
        }
        return writer
    }

    func testHyperparametersOfATinyFileAndItsDefaults() throws {
        let file = try GGUFFile(path: tinyLlama().write(name: "tiny.gguf"))
        let h = try ModelHyperparameters(metadata: file.metadata)
        XCTAssertEqual(h.headDimension, 4, "embedding / heads when key_length is absent")
        XCTAssertEqual(h.ropeDimension, 4, "the head dimension when rope.dimension_count is absent")
        XCTAssertEqual(h.ropeFrequencyBase, 10_000, "llama.cpp's default base")
        XCTAssertEqual(h.kvDimension, 4)
        let weights = try TransformerWeights(file: file, hyper: h)
        XCTAssertTrue(weights.tiedOutput)
        XCTAssertEqual(weights.layers.count, 1)
    }

    func testUnsupportedArchitectureNamesTheFileAndArchitecture() throws {
        let path = try tinyLlama(architecture: "gpt2").write(name: "gpt2.gguf")
        let file = try GGUFFile(path: path)
        XCTAssertThrowsError(try ModelHyperparameters(metadata: file.metadata)) { error in
            XCTAssertEqual(error as? ModelError, ModelError(file: path, problem: .unsupportedArchitecture("gpt2")))
            XCTAssertTrue("\(error)".contains(path) && "\(error)".contains("'gpt2'"), "\(error)")
        }
    }

    func testMissingTensorNamesTheFileAndTensor() throws {
        let path = try tinyLlama(dropping: "blk.0.attn_v.weight").write(name: "missing.gguf")
        let file = try GGUFFile(path: path)
        let h = try ModelHyperparameters(metadata: file.metadata)
        XCTAssertThrowsError(try TransformerWeights(file: file, hyper: h)) { error in
            XCTAssertEqual(error as? ModelError, ModelError(file: path, problem: .missingTensor("blk.0.attn_v.weight")))
            XCTAssertEqual("\(error)", "\(path): missing tensor blk.0.attn_v.weight")
        }
    }

    func testMisshapenTensorIsRejected() throws {
        let path = try tinyLlama(reshaping: "blk.0.ffn_down.weight").write(name: "shape.gguf")
        let file = try GGUFFile(path: path)
        XCTAssertThrowsError(try TransformerWeights(file: file, hyper: ModelHyperparameters(metadata: file.metadata))) { error in
            XCTAssertEqual(error as? ModelError, ModelError(file: path, problem: .tensorShape(
                tensor: "blk.0.ffn_down.weight", expected: [16, 8], found: [8, 16, 1])))
        }
    }

    func testInconsistentHeadCountsAreRejected() throws {
        var writer = tinyLlama()
        writer.metadata.removeAll { $0.0 == "llama.attention.head_count_kv" }
        writer.metadata.append(("llama.attention.head_count_kv", .uint32(3)))
        let file = try GGUFFile(path: writer.write(name: "heads.gguf"))
        XCTAssertThrowsError(try ModelHyperparameters(metadata: file.metadata)) { error in
            guard case .invalidHyperparameter(let key, _)? = (error as? ModelError)?.problem else { return XCTFail("\(error)") }
            XCTAssertEqual(key, "llama.attention.head_count_kv")
        }
    }
}
