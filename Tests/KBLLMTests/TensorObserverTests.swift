import Foundation
import XCTest
@testable import KBLLM

/// The forward pass tells an observer every named intermediate under llama.cpp's names, which is
/// what lets `scripts/compare-with-llamacpp.py` compare kb and llama.cpp op by op.
final class TensorObserverTests: XCTestCase {
    func testEveryNamedIntermediateIsSeenOnceAndTheLastIsTheLogits() throws {
        let model = try EngineModels.model(EngineModels.smolLM2)
        let session = model.makeSession(usePrefixCache: false)
        let tokens = model.tokenizer.encode("The capital of France is", addSpecial: true)
        final class Seen: @unchecked Sendable {
            var names: [String] = []
            var rows: [String: Int] = [:]
            var values: [String: [Float]] = [:]
        }
        let seen = Seen()
        session.observer = { name, rows, values in
            seen.names.append(name)
            seen.rows[name] = rows
            seen.values[name] = Array(values)
        }
        let logits = try session.evaluate(tokens, logitRows: 1)

        let layers = model.hyperparameters.layerCount
        let perLayer = ["attn_norm", "Vcur", "Qcur", "Kcur", "kqv_out", "ffn_inp", "ffn_norm", "ffn_swiglu", "ffn_out", "l_out"]
        let expected = (0..<layers).flatMap { layer in perLayer.map { "\($0)-\(layer)" } } + ["result_norm", "result_output"]
        XCTAssertEqual(seen.names, expected)
        XCTAssertEqual(seen.values["result_output"], logits, "the last intermediate is the logits returned")
        XCTAssertEqual(seen.rows["attn_norm-0"], tokens.count)
        XCTAssertEqual(seen.rows["l_out-\(layers - 1)"], 1, "the last feed-forward runs on the logit rows only, as llama.cpp's")
        XCTAssertEqual(seen.rows["ffn_inp-\(layers - 1)"], 1)
        XCTAssertEqual(seen.rows["ffn_inp-0"], tokens.count)
        XCTAssertEqual(seen.values["attn_norm-0"]?.count, tokens.count * model.hyperparameters.embeddingLength)
        XCTAssertNotEqual(seen.values["ffn_inp-0"], seen.values["l_out-0"], "the feed-forward changed the residual stream")

        session.observer = nil
        let again = model.makeSession(usePrefixCache: false)
        XCTAssertEqual(try again.evaluate(tokens, logitRows: 1), logits, "observing changes nothing")
    }
}
