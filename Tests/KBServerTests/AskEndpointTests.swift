import Foundation
@testable import KBServer
import XCTest

final class AskEndpointTests: XCTestCase {
    func testAnswerCitesChunksWithExactDocumentSpans() async throws {
        let server = try await TestServer(self)
        let response = try await server.client.json("POST", "/v1/ask", ["question": "How are old logs compressed?"])
        XCTAssertEqual(response.status, 200, response.text)
        let answer = try XCTUnwrap(response.json["answer"] as? String)
        XCTAssertTrue(answer.contains("[1]"), answer)
        let citations = try XCTUnwrap(response.json["citations"] as? [[String: Any]])
        let sources = try XCTUnwrap(response.json["sources"] as? [[String: Any]])
        XCTAssertFalse(citations.isEmpty)
        XCTAssertEqual(citations.first?["marker"] as? Int, 1)
        XCTAssertEqual(citations.first?["title"] as? String, "Log rotation")
        for citation in citations {
            let documentID = try XCTUnwrap((citation["document_id"] as? NSNumber)?.int64Value)
            let document = try await server.client.request("GET", "/v1/documents/\(documentID)")
            let text = Array(try XCTUnwrap(document.json["text"] as? String).unicodeScalars)
            let start = try XCTUnwrap(citation["start_offset"] as? Int), end = try XCTUnwrap(citation["end_offset"] as? Int)
            XCTAssertEqual(String(String.UnicodeScalarView(text[start..<end])), citation["text"] as? String)
        }
        // Every marker in the answer maps to a source.
        let markers = Set(sources.compactMap { $0["marker"] as? Int })
        for citation in citations { XCTAssertTrue(markers.contains(citation["marker"] as? Int ?? -1)) }
        XCTAssertEqual(response.json["finish_reason"] as? String, "stop")
        XCTAssertEqual(response.json["model"] as? String, "scripted-test-model")
        let usage = try XCTUnwrap(response.json["usage"] as? [String: Any])
        XCTAssertGreaterThan(usage["completion_tokens"] as? Int ?? 0, 0)
    }

    func testPromptIsLaidOutForPrefixReuse() async throws {
        let server = try await TestServer(self)
        let generator = try XCTUnwrap(server.generator)
        _ = try await server.client.json("POST", "/v1/ask", ["question": "How are old logs compressed?"])
        let second = try await server.client.json("POST", "/v1/ask", [
            "question": "When do backups run?",
            "history": [["role": "user", "content": "How are old logs compressed?"], ["role": "assistant", "content": "With gzip [1]."]],
        ])
        XCTAssertEqual(second.status, 200, second.text)
        let prompts = generator.prompts
        XCTAssertEqual(prompts.count, 2)
        XCTAssertEqual(prompts[0][0], PromptMessage(.system, AnswerPrompt.systemPrompt), "a fixed system prompt comes first")
        XCTAssertEqual(Array(prompts[1].prefix(3)), Array(prompts[0].prefix(3)), "the worked example is fixed too")
        XCTAssertEqual(Array(prompts[0][1...2]), AnswerPrompt.example)
        XCTAssertEqual(prompts[1].map(\.role), [.system, .user, .assistant, .user, .assistant, .user],
                       "system, worked example, history, then sources and question")
        let last = prompts[1][5].content
        XCTAssertTrue(last.hasPrefix("Sources:\n"))
        XCTAssertTrue(last.hasSuffix("Question: When do backups run?"))
        let usage = try XCTUnwrap(second.json["usage"] as? [String: Any])
        XCTAssertGreaterThanOrEqual(usage["cached_prompt_tokens"] as? Int ?? 0, AnswerPrompt.systemPrompt.split(separator: " ").count,
                                    "the double's prefix cache saw the whole system prompt again")
    }

    func testNothingRelevantIsSaidWithoutCallingTheModel() async throws {
        let server = try await TestServer(self)
        let generator = try XCTUnwrap(server.generator)
        let response = try await server.client.json("POST", "/v1/ask", ["question": "zyxwvut qqqq"])
        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertEqual(response.json["answer"] as? String, AnswerPrompt.nothingFound)
        XCTAssertEqual((response.json["citations"] as? [Any])?.count, 0)
        XCTAssertEqual(generator.calls, 0)
        let streamed = try await server.client.json("POST", "/v1/ask", ["question": "zyxwvut qqqq", "stream": true])
        let events = SSEEvent.parse(streamed.text)
        XCTAssertEqual(events.map(\.name), ["token", "citations", "usage", "done"])
        XCTAssertEqual(events[0].json["text"] as? String, AnswerPrompt.nothingFound)
        XCTAssertEqual(generator.calls, 0)
    }

    func testStreamingSendsTokensSentencesAsTheyEndThenCitationsAndUsage() async throws {
        let server = try await TestServer(self)
        let response = try await server.client.json("POST", "/v1/ask", ["question": "How are old logs compressed?", "stream": true])
        XCTAssertEqual(response.status, 200)
        XCTAssertTrue(response.headers["content-type"]?.hasPrefix("text/event-stream") ?? false)
        let events = SSEEvent.parse(response.text)
        let names = events.map { $0.name ?? "" }
        let tokens = names.filter { $0 == "token" }.count
        XCTAssertGreaterThan(tokens, 3)
        let lastToken = try XCTUnwrap(names.lastIndex(of: "token"))
        XCTAssertEqual(Array(names[(lastToken + 1)...]).filter { $0 != "sentence" }, ["citations", "usage", "done"])
        let text = events.filter { $0.name == "token" }.compactMap { $0.json["text"] as? String }.joined()
        let plain = try await server.client.json("POST", "/v1/ask", ["question": "How are old logs compressed?"])
        XCTAssertEqual(text, plain.json["answer"] as? String, "the streamed pieces add up to the answer")

        // Each sentence is sent once it is complete: after the tokens that hold all of it, and
        // before the stream ends when the answer's first sentence ends early.
        var streamed = 0
        var sentences: [[String: Any]] = []
        for event in events {
            if event.name == "token" { streamed += (event.json["text"] as? String ?? "").unicodeScalars.count }
            if event.name == "sentence" {
                XCTAssertLessThanOrEqual(event.json["end"] as? Int ?? .max, streamed, "a sentence is sent after its last token")
                sentences.append(event.json)
            }
        }
        XCTAssertEqual(sentences.count, 2, "the scripted answer has two sentences: \(text)")
        XCTAssertLessThan(try XCTUnwrap(names.firstIndex(of: "sentence")), lastToken, "the first sentence comes while tokens still stream")
        let closing = try XCTUnwrap(events.first { $0.name == "citations" }?.json)
        XCTAssertEqual((closing["sentences"] as? [[String: Any]])?.count, 2)
        XCTAssertEqual(closing["grounded"] as? Bool, true)
        let citations = try XCTUnwrap(closing["citations"] as? [[String: Any]])
        let sources = try XCTUnwrap(closing["sources"] as? [[String: Any]])
        XCTAssertEqual(citations.compactMap { $0["title"] as? String }, ["Log rotation"])
        XCTAssertTrue(Set(citations.compactMap { $0["chunk_id"] as? Int }).isSubset(of: sources.compactMap { $0["chunk_id"] as? Int }))
        XCTAssertEqual((events.first { $0.name == "usage" }?.json["usage"] as? [String: Any])?["completion_tokens"] as? Int, tokens)
    }

    func testBadAskRequests() async throws {
        let server = try await TestServer(self)
        let cases: [([String: Any], String)] = [
            (["question": ""], "empty_query"),
            (["question": "logs", "top_k": 50], "top_k_out_of_range"),
            (["question": "logs", "max_tokens": 0], "invalid_field"),
            (["question": "logs", "temperature": 9], "invalid_field"),
            (["question": "logs", "history": [["role": "system", "content": "obey"]]], "invalid_field"),
            (["question": "logs", "history": "none"], "invalid_field"),
            (["question": ["logs"]], "invalid_field"),
        ]
        for (body, code) in cases {
            let response = try await server.client.json("POST", "/v1/ask", body)
            XCTAssertEqual(response.status, 400, "\(body): \(response.text)")
            XCTAssertEqual(response.errorCode, code, "\(body)")
        }
        let searchOnly = try await TestServer(self, generator: nil)
        let noModel = try await searchOnly.client.json("POST", "/v1/ask", ["question": "logs"])
        XCTAssertEqual(noModel.status, 503)
        XCTAssertEqual(noModel.errorCode, "model_not_loaded")
    }

    func testFullQueueAnswers429WithRetryAfter() async throws {
        let server = try await TestServer(self) { $0.maxConcurrentGenerations = 1; $0.maxQueuedGenerations = 1 }
        let generator = try XCTUnwrap(server.generator)
        generator.closeGate()
        let client = server.client
        let running = Task { try await client.json("POST", "/v1/ask", ["question": "How are old logs compressed?"]) }
        try await waitUntil { server.server.answers.queue.counts.active == 1 }
        let waiting = Task { try await client.json("POST", "/v1/ask", ["question": "When do backups run?"]) }
        try await waitUntil { server.server.answers.queue.counts.waiting == 1 }
        let refused = try await client.json("POST", "/v1/ask", ["question": "Kernel reboot?", "stream": true])
        XCTAssertEqual(refused.status, 429, refused.text)
        XCTAssertEqual(refused.errorCode, "overloaded")
        XCTAssertGreaterThanOrEqual(Int(refused.headers["retry-after"] ?? "") ?? 0, 1)
        let metrics = try PrometheusTextParser.parse(try await client.request("GET", "/metrics").text)
        XCTAssertEqual(metrics.samples("kb_generation_queue_depth").first?.value, 1)
        XCTAssertEqual(metrics.samples("kb_generations_rejected_total").first?.value, 1)
        generator.openGate()
        let first = try await running.value, second = try await waiting.value
        XCTAssertEqual(first.status, 200)
        XCTAssertEqual(second.status, 200)
        XCTAssertEqual(server.server.answers.queue.counts.active, 0)
    }

    func testRequestTimeoutAnswers503AndCancelsTheGeneration() async throws {
        let server = try await TestServer(self) { $0.requestTimeout = 0.5 }
        let generator = try XCTUnwrap(server.generator)
        generator.closeGate()
        let response = try await server.client.json("POST", "/v1/ask", ["question": "How are old logs compressed?"])
        XCTAssertEqual(response.status, 503, response.text)
        XCTAssertEqual(response.errorCode, "timeout")
        XCTAssertNotNil(response.headers["retry-after"])
        try await waitUntil { generator.endings == ["cancelled"] }
        XCTAssertEqual(server.server.answers.queue.counts.active, 0, "the slot was given back")
        generator.openGate()
        let search = try await server.client.json("POST", "/v1/search", ["query": "logs"])
        XCTAssertEqual(search.status, 200)
    }

    func testClientDisconnectCancelsGeneration() async throws {
        let server = try await TestServer(self)
        let generator = try XCTUnwrap(server.generator)
        generator.delayPerPiece = 0.2
        let body = try JSONSerialization.data(withJSONObject: ["question": "How are old logs compressed?", "stream": true])
        let received = try await server.client.readThenHangUp("POST", "/v1/ask", headers: ["Content-Type": "application/json"],
                                                              body: body) { data in
            String(decoding: data, as: UTF8.self).components(separatedBy: "event: token").count > 2
        }
        XCTAssertTrue(String(decoding: received, as: UTF8.self).contains("event: token"))
        try await waitUntil(seconds: 10) { generator.endings.count == 1 }
        XCTAssertNotEqual(generator.endings.first, "finished", "generation stopped when the client hung up")
        try await waitUntil { server.server.answers.queue.counts.active == 0 }
        let health = try await server.client.request("GET", "/healthz")
        XCTAssertEqual(health.status, 200)
    }

    func testDeletingACitedDocumentMidStreamKeepsTheCitation() async throws {
        let server = try await TestServer(self)
        let generator = try XCTUnwrap(server.generator)
        generator.delayPerPiece = 0.05
        let client = server.client
        let stream = Task { try await client.json("POST", "/v1/ask", ["question": "How are old logs compressed?", "stream": true]) }
        try await waitUntil { generator.calls == 1 }
        let id = try await server.documentID("rotate")
        let deleted = try await client.request("DELETE", "/v1/documents/\(id)", headers: ["X-API-Key": TestServer.apiKey])
        XCTAssertEqual(deleted.status, 200)
        let response = try await stream.value
        let events = SSEEvent.parse(response.text)
        let citations = try XCTUnwrap(events.first { $0.name == "citations" }?.json["citations"] as? [[String: Any]])
        XCTAssertEqual(citations.first?["title"] as? String, "Log rotation", "the answer's sources are the retrieved snapshot")
        XCTAssertEqual(events.last?.name, "done")
    }
}

/// Polls `condition` until it holds, failing after `seconds`.
func waitUntil(seconds: Double = 5, _ condition: @escaping () -> Bool, file: StaticString = #filePath, line: UInt = #line) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
        if Date() > deadline {
            XCTFail("condition not met within \(seconds) s", file: file, line: line)
            return
        }
        try await Task.sleep(for: .milliseconds(10))
    }
}
