import Foundation
@testable import KBServer
import XCTest

/// Generations end when nobody wants them any more: on the server's graceful shutdown (running
/// and waiting answers are cancelled, clients are told) and when a non-streaming client hangs up.
final class ShutdownAndHangUpTests: XCTestCase {
    func testShutdownCancelsRunningAndWaitingGenerationsAndTellsTheirClients() async throws {
        let server = try await TestServer(self) { $0.maxConcurrentGenerations = 2; $0.maxQueuedGenerations = 4 }
        let generator = try XCTUnwrap(server.generator)
        generator.closeGate()   // generations run until cancelled
        let client = server.client
        let plain = Task { try await client.json("POST", "/v1/ask", ["question": "How are old logs compressed?"]) }
        let streamed = Task {
            try await client.json("POST", "/v1/ask", ["question": "When do backups run?", "stream": true])
        }
        try await waitUntil { server.server.answers.queue.counts.active == 2 && generator.calls == 2 }
        let waiting = Task {
            try await client.json("POST", "/v1/chat/completions",
                                  ["messages": [["role": "user", "content": "Kernel reboot?"]]])
        }
        try await waitUntil { server.server.answers.queue.counts.waiting == 1 }

        let valve = Task {   // were the generations not cancelled, they would end here, and the test fail
            try await Task.sleep(for: .seconds(8))
            generator.openGate()
        }
        defer { valve.cancel() }
        let seconds = await server.shutDown()
        XCTAssertLessThan(seconds, 5, "the shutdown did not wait for the generations")

        let plainResponse = try await plain.value
        XCTAssertEqual(plainResponse.status, 503, plainResponse.text)
        XCTAssertEqual(plainResponse.errorCode, "shutting_down")
        let waitingResponse = try await waiting.value
        XCTAssertEqual(waitingResponse.status, 503, waitingResponse.text)
        XCTAssertEqual(waitingResponse.errorCode, "shutting_down")
        let streamResponse = try await streamed.value
        XCTAssertEqual(streamResponse.status, 200)
        let events = SSEEvent.parse(streamResponse.text)
        XCTAssertEqual(events.last?.name, "error", streamResponse.text)
        XCTAssertEqual((events.last?.json["error"] as? [String: Any])?["code"] as? String, "shutting_down")
        XCTAssertFalse(events.contains { $0.name == "done" })

        XCTAssertEqual(generator.endings, ["cancelled", "cancelled"], "both running generations were cancelled")
        XCTAssertEqual(generator.calls, 2, "the waiting request never reached the model")
        XCTAssertEqual(server.server.answers.queue.counts.active, 0)
        let metrics = try PrometheusTextParser.parse(server.server.metrics.exposition())
        let shutdown = metrics.samples("kb_generations_cancelled_total").first { $0.labels["reason"] == "shutdown" }
        XCTAssertEqual(shutdown?.value, 3)
    }

    func testNonStreamingClientHangingUpCancelsItsGenerationAndFreesTheSlot() async throws {
        // One slot and no waiting room: a slot still held by a dead request would make the next one a 429.
        let server = try await TestServer(self) { $0.maxConcurrentGenerations = 1; $0.maxQueuedGenerations = 0 }
        let generator = try XCTUnwrap(server.generator)
        generator.closeGate()
        let requests: [(path: String, body: [String: Any])] = [
            ("/v1/ask", ["question": "How are old logs compressed?"]),
            ("/v1/chat/completions", ["messages": [["role": "user", "content": "When do backups run?"]]]),
        ]
        for (number, request) in requests.enumerated() {
            let body = try JSONSerialization.data(withJSONObject: request.body)
            try await server.client.sendThenHangUp("POST", request.path, headers: ["Content-Type": "application/json"],
                                                   body: body) { generator.calls == number + 1 }
            try await waitUntil(seconds: 10) { generator.endings.count == number + 1 }
            XCTAssertEqual(generator.endings.last, "cancelled", "\(request.path): the generation stopped with its client")
            try await waitUntil { server.server.answers.queue.counts.active == 0 }
        }
        generator.openGate()
        let next = try await server.client.json("POST", "/v1/ask", ["question": "When do backups run?"])
        XCTAssertEqual(next.status, 200, "the slot was given back: \(next.text)")
        XCTAssertEqual(next.headers["connection"], "close")
        let metrics = try PrometheusTextParser.parse(try await server.client.request("GET", "/metrics").text)
        let cancelled = metrics.samples("kb_generations_cancelled_total").first { $0.labels["reason"] == "client" }
        XCTAssertEqual(cancelled?.value, 2)
        XCTAssertEqual(metrics.samples("kb_generations_rejected_total").first?.value, 0)
    }

    /// A client that closes its connection normally (FIN) during a non-streaming answer, while it
    /// generates or while it waits for a slot, crashed the server: the body had been read before
    /// Hummingbird's hang-up watch, which then dropped its request stream unfinished (a precondition
    /// failure that killed the process — and would kill this test run).
    func testNonStreamingClientsClosingNormallyWhileGeneratingOrQueuedAreCancelledWithoutHarm() async throws {
        let server = try await TestServer(self) { $0.maxConcurrentGenerations = 1; $0.maxQueuedGenerations = 2 }
        let generator = try XCTUnwrap(server.generator)
        generator.closeGate()
        let ask = try JSONSerialization.data(withJSONObject: ["question": "How are old logs compressed?"])
        let json = ["Content-Type": "application/json"]
        try await server.client.sendThenHangUp("POST", "/v1/ask", headers: json, body: ask, reset: false) { generator.calls == 1 }
        try await waitUntil(seconds: 10) { generator.endings == ["cancelled"] }
        try await waitUntil { server.server.answers.queue.counts.active == 0 }

        let holder = Task { try await server.client.json("POST", "/v1/ask", ["question": "When do backups run?"]) }
        try await waitUntil { generator.calls == 2 }
        let chat = try JSONSerialization.data(withJSONObject: ["messages": [["role": "user", "content": "Kernel reboot?"]]])
        try await server.client.sendThenHangUp("POST", "/v1/chat/completions", headers: json, body: chat, reset: false) {
            server.server.answers.queue.counts.waiting == 1
        }
        try await waitUntil(seconds: 10) { server.server.answers.queue.counts.waiting == 0 }
        generator.openGate()
        let held = try await holder.value
        XCTAssertEqual(held.status, 200, held.text)
        XCTAssertEqual(generator.calls, 2, "the request that left while queued never reached the model")
        let next = try await server.client.json("POST", "/v1/ask", ["question": "When do backups run?"])
        XCTAssertEqual(next.status, 200, "the server still answers: \(next.text)")
        XCTAssertEqual(server.server.answers.queue.counts.active, 0)
    }

    /// A streaming client that resets its connection while queued must not keep its slot: with one
    /// slot, every later answer hung. One that closes normally while queued must not be answered
    /// for nobody once a slot frees up.
    func testStreamingClientsLeavingWhileQueuedLeaveNoSlotAndNoWorkBehind() async throws {
        let server = try await TestServer(self) { $0.maxConcurrentGenerations = 1; $0.maxQueuedGenerations = 2 }
        let generator = try XCTUnwrap(server.generator)
        generator.closeGate()
        let holder = Task { try await server.client.json("POST", "/v1/ask", ["question": "When do backups run?"]) }
        try await waitUntil { generator.calls == 1 }
        let abandoned = [("/v1/ask", true), ("/v1/chat/completions", true), ("/v1/ask", false), ("/v1/chat/completions", false)]
        for (index, (path, reset)) in abandoned.enumerated() {
            let body = path == "/v1/ask"
                ? ["question": "How are old logs compressed?", "stream": true]
                : ["messages": [["role": "user", "content": "How are old logs compressed?"]], "stream": true] as [String: Any]
            try await server.client.sendThenHangUp("POST", path, headers: ["Content-Type": "application/json"],
                                                   body: try JSONSerialization.data(withJSONObject: body), reset: reset) {
                server.server.answers.queue.counts.waiting == 1
            }
            try await waitUntil(seconds: 10) { server.server.answers.queue.counts.waiting == 0 }
            XCTAssertEqual(server.server.answers.queue.counts.active, 1, "after stream \(index): only the holder's slot")
        }
        generator.openGate()
        _ = try await holder.value
        try await waitUntil { server.server.answers.queue.counts.active == 0 }
        let next = try await server.client.json("POST", "/v1/ask", ["question": "When do backups run?", "stream": true])
        XCTAssertEqual(next.status, 200)
        XCTAssertEqual(SSEEvent.parse(next.text).last?.name, "done", next.text)
        XCTAssertEqual(generator.calls, 2, "no abandoned stream reached the model")
    }

    /// A streaming client that stops reading and closes normally stops its generation: the answer
    /// is not computed for nobody.
    func testStreamingClientLeavingNormallyStopsItsGeneration() async throws {
        let server = try await TestServer(self) { $0.maxConcurrentGenerations = 1 }
        let generator = try XCTUnwrap(server.generator)
        generator.delayPerPiece = 0.4   // about 15 pieces: 6 s if nobody stops it
        let body = try JSONSerialization.data(withJSONObject: ["question": "How are old logs compressed?", "stream": true])
        let received = try await server.client.readThenHangUp("POST", "/v1/ask", headers: ["Content-Type": "application/json"],
                                                              body: body, reset: false) { data in
            String(decoding: data, as: UTF8.self).contains("event: token")
        }
        XCTAssertTrue(String(decoding: received, as: UTF8.self).contains("event: token"))
        try await waitUntil(seconds: 5) { generator.endings == ["cancelled"] }
        try await waitUntil { server.server.answers.queue.counts.active == 0 }
    }
}
