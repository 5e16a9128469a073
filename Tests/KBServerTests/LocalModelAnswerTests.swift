import Foundation
@testable import KBServer
import KBTestSupport
import XCTest

/// `/v1/ask` and `/v1/chat/completions` on the real engine (KBLLM) with SmolLM2-135M.
final class LocalModelAnswerTests: XCTestCase {
    private func loadModel() throws -> LocalModelGenerator {
        let path = TestSupport.modelsDirectory.appendingPathComponent("smollm2-135m-instruct-q4_1.gguf").path
        guard FileManager.default.fileExists(atPath: path) else {
            XCTFail("missing \(path): run scripts/fetch-models.sh smollm2")
            throw HTTPTestClient.Failure(description: "missing model \(path)")
        }
        return try LocalModelGenerator(path: path)
    }

    func testAnswersStreamFromTheEngineAndTheSystemPromptHitsThePrefixCache() async throws {
        let generator = try loadModel()
        XCTAssertEqual(generator.modelID, "smollm2-135m-instruct-q4_1")
        let server = try await TestServer(self, generator: nil, answerModel: generator)
        let first = try await server.client.json("POST", "/v1/ask", ["question": "How are old logs compressed?", "max_tokens": 12])
        XCTAssertEqual(first.status, 200, first.text)
        XCTAssertFalse((first.json["answer"] as? String ?? "").isEmpty)
        let usage = try XCTUnwrap(first.json["usage"] as? [String: Any])
        XCTAssertGreaterThan(usage["prompt_tokens"] as? Int ?? 0, 50)
        XCTAssertGreaterThan(usage["completion_tokens"] as? Int ?? 0, 0)
        XCTAssertLessThanOrEqual(usage["completion_tokens"] as? Int ?? 99, 12)

        let streamed = try await server.client.json("POST", "/v1/chat/completions", [
            "stream": true, "max_tokens": 8, "messages": [["role": "user", "content": "When does the database backup run?"]],
        ])
        let events = SSEEvent.parse(streamed.text)
        XCTAssertEqual(events.last?.data, "[DONE]", streamed.text)
        let last = try XCTUnwrap(events.dropLast().last?.json)
        let streamedUsage = try XCTUnwrap(last["usage"] as? [String: Any])
        let cached = (streamedUsage["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int ?? 0
        XCTAssertGreaterThanOrEqual(cached, 32, "the fixed system prompt's blocks came from the prefix cache")
        let metrics = try PrometheusTextParser.parse(try await server.client.request("GET", "/metrics").text)
        XCTAssertEqual(metrics.samples("kb_generation_time_to_first_token_seconds_count").first?.value, 2)
        XCTAssertGreaterThanOrEqual(metrics.samples("kb_prefix_cache_hit_tokens_total").first?.value ?? 0, Double(cached))
        XCTAssertEqual(metrics.samples("kb_generation_tokens_per_second_count").first?.value ?? 0, 2)
    }

    /// Eight people asking at once are answered in the same forward passes (more than one token
    /// per pass), each with the answer it gets alone; `/metrics` shows the engine and the KV pool,
    /// and every block is back when they are done.
    func testConcurrentAnswersAreBatchedAndEqualTheAnswersAlone() async throws {
        let generator = try loadModel()
        let server = try await TestServer(self, generator: nil, answerModel: generator)
        let questions = ["How are old logs compressed?", "When does the database backup run?", "Who can reset a password?",
                         "Which port does the VPN use?", "How long are invoices kept?", "What does kb store?",
                         "Where is the backup kept?", "How are errors reported?"]
        func ask(_ question: String) async throws -> String {
            let response = try await server.client.json("POST", "/v1/ask", ["question": question, "max_tokens": 16])
            XCTAssertEqual(response.status, 200, response.text)
            return response.json["answer"] as? String ?? ""
        }
        var alone: [String] = []
        for question in questions { alone.append(try await ask(question)) }
        let before = generator.engine.statistics
        let together = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for (index, question) in questions.enumerated() { group.addTask { (index, try await ask(question)) } }
            var answers = [String](repeating: "", count: questions.count)
            for try await (index, answer) in group { answers[index] = answer }
            return answers
        }
        XCTAssertEqual(together, alone, "the same answers however busy the server is")
        let after = generator.engine.statistics
        let steps = after.steps - before.steps, tokens = after.stepTokens - before.stepTokens
        XCTAssertGreaterThan(Double(tokens) / Double(max(1, steps)), 2, "passes carry several sequences")
        XCTAssertEqual(generator.model.kvPool.statistics.usedBlocks, 0, "every block came back")
        let metrics = try PrometheusTextParser.parse(try await server.client.request("GET", "/metrics").text)
        XCTAssertEqual(metrics.samples("kb_engine_running_sequences").first?.value, 0)
        XCTAssertEqual(metrics.samples("kb_engine_steps_total").first?.value, Double(after.steps))
        XCTAssertGreaterThan(metrics.samples("kb_kv_blocks").first { $0.labels["state"] == "cached" }?.value ?? 0, 0)
        XCTAssertGreaterThan(metrics.samples("kb_engine_prefix_hit_tokens_total").first?.value ?? 0, 0)
    }

    func testAFailingCallbackOrACancelledTaskStopsTheEngine() async throws {
        let generator = try loadModel()
        struct ClientGone: Error {}
        let prompt = try generator.prepare([PromptMessage(.user, "List the numbers from 1 to 100, one per line.")])  // a long answer
        let counter = PieceCounter()
        do {
            _ = try await generator.generate(prompt, parameters: GenerationParameters(maxTokens: 500)) { _ in
                counter.increment()
                if counter.value == 3 { throw ClientGone() }
            }
            XCTFail("the callback's error must come back")
        } catch is ClientGone {}
        XCTAssertEqual(counter.value, 3, "no piece after the callback failed")

        let cancelled = PieceCounter()
        do {
            _ = try await generator.generate(prompt, parameters: GenerationParameters(maxTokens: 500)) { _ in
                cancelled.increment()
                if cancelled.value == 2 { withUnsafeCurrentTask { $0?.cancel() } }
            }
            XCTFail("a cancelled generation must throw")
        } catch is CancellationError {}
        XCTAssertLessThanOrEqual(cancelled.value, 3, "the engine stopped at the next token")
    }
}

final class PieceCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
