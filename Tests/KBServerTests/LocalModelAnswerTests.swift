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
