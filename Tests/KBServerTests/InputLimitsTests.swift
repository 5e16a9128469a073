import Foundation
@testable import KBServer
import XCTest

/// Every text a client sends is bounded in bytes and terms before any work is done on it.
final class InputLimitsTests: XCTestCase {
    /// The limit counted characters (grapheme clusters), so one "character" could carry hundreds of
    /// KiB of combining marks into the search and its caches.
    func testQueriesAreLimitedInBytesNotCharacters() async throws {
        let server = try await TestServer(self)
        let accents = "a" + String(repeating: "\u{0301}", count: 10_000)   // one character, 20,001 bytes
        let twoByte = String(repeating: "é", count: InputLimits.queryBytes / 2 + 1)   // 2,049 characters, 4,098 bytes
        for query in [accents, twoByte] {
            let search = try await server.client.json("POST", "/v1/search", ["query": query])
            XCTAssertEqual(search.status, 400, search.text)
            XCTAssertEqual(search.errorCode, "query_too_long")
            XCTAssertTrue(search.errorMessage?.contains("bytes") ?? false, search.text)
            let ask = try await server.client.json("POST", "/v1/ask", ["question": query])
            XCTAssertEqual(ask.status, 400, ask.text)
            XCTAssertEqual(ask.errorCode, "query_too_long")
        }
        let fits = String(repeating: "é", count: InputLimits.queryBytes / 2)
        let search = try await server.client.json("POST", "/v1/search", ["query": fits])
        XCTAssertEqual(search.status, 200, search.text)
        XCTAssertEqual(server.generator?.calls, 0)
    }

    func testConversationsAreLimitedInMessagesAndBytes() async throws {
        let server = try await TestServer(self)
        let manyTurns = (0..<InputLimits.conversationMessages).map { ["role": $0 % 2 == 0 ? "user" : "assistant", "content": "hi"] }
        let ask = try await server.client.json("POST", "/v1/ask", ["question": "Backups?", "history": manyTurns])
        XCTAssertEqual(ask.status, 400, ask.text)
        XCTAssertEqual(ask.errorCode, "conversation_too_long")

        let longTurn = String(repeating: "word ", count: InputLimits.conversationBytes / 5 + 1)
        let longHistory = try await server.client.json("POST", "/v1/ask", ["question": "Backups?",
                                                                            "history": [["role": "user", "content": longTurn]]])
        XCTAssertEqual(longHistory.status, 400, longHistory.text)
        XCTAssertEqual(longHistory.errorCode, "conversation_too_long")

        let messages = (0...InputLimits.conversationMessages).map { _ in ["role": "user", "content": "hi"] }
        let chat = try await server.client.json("POST", "/v1/chat/completions", ["messages": messages])
        XCTAssertEqual(chat.status, 400, chat.text)
        XCTAssertEqual(chat.errorCode, "conversation_too_long")

        // The reported case: a 929 KB question cost 50 s of CPU in the search before any limit.
        let huge = String(repeating: "abcdefgh ", count: 100_000)
        let hugeChat = try await server.client.json("POST", "/v1/chat/completions",
                                                    ["messages": [["role": "user", "content": huge]]])
        XCTAssertEqual(hugeChat.status, 400, hugeChat.text)
        XCTAssertEqual(hugeChat.errorCode, "conversation_too_long")
        let question = try await server.client.json("POST", "/v1/chat/completions",
                                                    ["messages": [["role": "user", "content": String(huge.prefix(8000))]]])
        XCTAssertEqual(question.status, 400, question.text)
        XCTAssertEqual(question.errorCode, "query_too_long")
        XCTAssertEqual(server.generator?.calls, 0, "nothing reached the model")
    }

    /// The prompt is laid out and checked against the context before a slot is taken: an
    /// over-long prompt is a 400 at once, not a wait for a slot (or a 429) followed by a 400.
    func testAPromptLongerThanTheContextIsRefusedBeforeTakingASlot() async throws {
        let server = try await TestServer(self) { $0.maxConcurrentGenerations = 1; $0.maxQueuedGenerations = 0 }
        let generator = try XCTUnwrap(server.generator)
        generator.closeGate()
        let holder = Task { try await server.client.json("POST", "/v1/ask", ["question": "When do backups run?"]) }
        try await waitUntil { generator.calls == 1 }
        generator.maxPromptWords = 5
        let refused = try await server.client.json("POST", "/v1/ask", ["question": "How are old logs compressed?"])
        XCTAssertEqual(refused.status, 400, refused.text)
        XCTAssertEqual(refused.errorCode, "context_length_exceeded")
        generator.maxPromptWords = nil
        let busy = try await server.client.json("POST", "/v1/ask", ["question": "How are old logs compressed?"])
        XCTAssertEqual(busy.status, 429, "a prompt that fits waits for the slot (none free, no waiting room)")
        generator.openGate()
        _ = try await holder.value
    }
}
