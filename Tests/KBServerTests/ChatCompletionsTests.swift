import Foundation
import XCTest

final class ChatCompletionsTests: XCTestCase {
    func testNonStreamingCompletionHasOpenAIShapeAndCitations() async throws {
        let server = try await TestServer(self)
        let response = try await server.client.json("POST", "/v1/chat/completions", [
            "model": "scripted-test-model",
            "messages": [["role": "system", "content": "Be brief."], ["role": "user", "content": "How are old logs compressed?"]],
        ])
        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertEqual(response.json["object"] as? String, "chat.completion")
        XCTAssertTrue((response.json["id"] as? String)?.hasPrefix("chatcmpl-") ?? false)
        let choice = try XCTUnwrap((response.json["choices"] as? [[String: Any]])?.first)
        XCTAssertEqual(choice["finish_reason"] as? String, "stop")
        let message = try XCTUnwrap(choice["message"] as? [String: Any])
        XCTAssertEqual(message["role"] as? String, "assistant")
        XCTAssertTrue((message["content"] as? String)?.contains("[1]") ?? false)
        let usage = try XCTUnwrap(response.json["usage"] as? [String: Any])
        XCTAssertEqual(usage["total_tokens"] as? Int, (usage["prompt_tokens"] as? Int ?? 0) + (usage["completion_tokens"] as? Int ?? 0))
        XCTAssertEqual((response.json["citations"] as? [[String: Any]])?.first?["title"] as? String, "Log rotation")
        let prompt = try XCTUnwrap(server.generator?.prompts.first)
        XCTAssertTrue(prompt[0].content.hasSuffix("\n\nBe brief."), "the client's system text follows the fixed prompt")
    }

    func testStreamingChunksEndWithCitationsAndDone() async throws {
        let server = try await TestServer(self)
        let response = try await server.client.json("POST", "/v1/chat/completions", [
            "model": "kb", "stream": true,
            "messages": [["role": "user", "content": [["type": "text", "text": "How are old logs compressed?"]]]],
        ])
        XCTAssertEqual(response.status, 200)
        let events = SSEEvent.parse(response.text)
        XCTAssertEqual(events.last?.data, "[DONE]")
        let chunks = events.dropLast().map(\.json)
        XCTAssertTrue(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
        let first = try XCTUnwrap((chunks.first?["choices"] as? [[String: Any]])?.first)
        XCTAssertEqual((first["delta"] as? [String: Any])?["role"] as? String, "assistant")
        XCTAssertTrue(first["finish_reason"] is NSNull)
        let text = chunks.compactMap { (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String }.joined()
        XCTAssertTrue(text.contains("[1]"))
        let last = try XCTUnwrap(chunks.last)
        XCTAssertEqual((last["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String, "stop")
        XCTAssertEqual((last["citations"] as? [[String: Any]])?.first?["title"] as? String, "Log rotation")
        XCTAssertNotNil(last["usage"] as? [String: Any])
    }

    func testModelsAndBadChatRequests() async throws {
        let server = try await TestServer(self)
        let models = try await server.client.request("GET", "/v1/models")
        XCTAssertEqual(models.status, 200)
        XCTAssertEqual(models.json["object"] as? String, "list")
        XCTAssertEqual((models.json["data"] as? [[String: Any]])?.first?["id"] as? String, "scripted-test-model")
        let cases: [([String: Any], Int, String)] = [
            (["model": "gpt-9", "messages": [["role": "user", "content": "hi"]]], 404, "model_not_found"),
            (["messages": []], 400, "invalid_field"),
            (["messages": [["role": "assistant", "content": "hi"]]], 400, "invalid_field"),
            (["messages": [["role": "user", "content": "  "]]], 400, "empty_query"),
            (["messages": [["role": "wizard", "content": "x"], ["role": "user", "content": "hi"]]], 400, "invalid_field"),
            (["messages": "hi"], 400, "invalid_field"),
            (["messages": [["role": "user", "content": 5]]], 400, "invalid_field"),
            (["messages": [["role": "user", "content": "hi"]], "n": 3], 400, "invalid_field"),
        ]
        for (body, status, code) in cases {
            let response = try await server.client.json("POST", "/v1/chat/completions", body)
            XCTAssertEqual(response.status, status, "\(body): \(response.text)")
            XCTAssertEqual(response.errorCode, code, "\(body)")
        }
    }
}
