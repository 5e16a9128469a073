import Foundation
import KBTestSupport
import XCTest

/// `kb serve` as a process: configured by options and environment, listening on loopback, and
/// stopping gracefully on SIGTERM.
final class ServeCommandTests: XCTestCase {
    func testServesFromEnvironmentAndStopsGracefullyOnSIGTERM() async throws {
        let directory = try TestSupport.temporaryDirectory(self)
        let db = directory.appendingPathComponent("served.sqlite").path
        let (process, output, port) = try await startServer(["--no-embed"], database: db)
        defer { if process.isRunning { process.terminate() } }
        let client = HTTPTestClient(port: port)
        let health = try await client.request("GET", "/healthz")
        XCTAssertEqual(health.status, 200)
        let posted = try await client.json("POST", "/v1/documents", ["id": "cli", "text": "Served by the command line tool."],
                                           headers: ["Authorization": "Bearer cli-key-1"])
        XCTAssertEqual(posted.status, 201, posted.text)
        let search = try await client.json("POST", "/v1/search", ["query": "command line tool"])
        XCTAssertEqual((search.json["results"] as? [[String: Any]])?.first?["uri"] as? String, "cli")
        let ask = try await client.json("POST", "/v1/ask", ["question": "what serves?"])
        XCTAssertEqual(ask.errorCode, "model_not_loaded")
        XCTAssertTrue(FileManager.default.fileExists(atPath: db), "KB_DB chose the database")

        process.terminate()   // SIGTERM
        try await waitUntil(seconds: 20) { !process.isRunning }
        XCTAssertEqual(process.terminationStatus, 0, output.text)
        XCTAssertFalse(output.text.contains("cli-key-1"), "the key was printed")
    }

    func testSIGTERMCancelsARunningAndAWaitingAnswerAndExitsPromptly() async throws {
        let model = TestSupport.modelsDirectory.appendingPathComponent("smollm2-135m-instruct-q4_1.gguf").path
        guard FileManager.default.fileExists(atPath: model) else {
            return XCTFail("missing \(model): run scripts/fetch-models.sh smollm2")
        }
        let directory = try TestSupport.temporaryDirectory(self)
        let db = directory.appendingPathComponent("served.sqlite").path
        let (process, output, port) = try await startServer(
            ["--no-embed", "--model", model, "--max-generations", "1", "--threads", "1"], database: db)
        defer { if process.isRunning { process.terminate() } }
        let client = HTTPTestClient(port: port)
        let numbers = (1...60).map { String($0) }.joined(separator: ", ")
        let posted = try await client.json("POST", "/v1/documents", [
            "id": "numbers", "title": "Counting", "text": "The numbers to recite, in order: \(numbers), and so on to ten thousand.",
        ], headers: ["Authorization": "Bearer cli-key-1"])
        XCTAssertEqual(posted.status, 201, posted.text)

        // A long answer (up to 4000 tokens) streams; a second, non-streaming one waits for the only slot.
        let question = "Recite every one of the numbers to recite, in order, one per line, all the way to ten thousand."
        let stream = try client.startReading("POST", "/v1/ask", headers: ["Content-Type": "application/json"], body: try JSONSerialization.data(
            withJSONObject: ["question": question, "stream": true, "max_tokens": 4000, "mode": "lexical"]))
        try await waitUntil(seconds: 60) { stream.text.components(separatedBy: "event: token").count > 3 || stream.finished }
        let waiting = Task { try await client.json("POST", "/v1/ask", ["question": question, "mode": "lexical"]) }
        var queued = false
        for _ in 0..<200 where !queued {
            let metrics = try PrometheusTextParser.parse(try await client.request("GET", "/metrics").text)
            queued = metrics.samples("kb_generation_queue_depth").first?.value == 1
            if !queued { try await Task.sleep(for: .milliseconds(10)) }
        }
        XCTAssertTrue(queued, "the second answer is waiting for the slot")
        XCTAssertFalse(stream.finished, "the answer was still being generated: \(stream.text)")

        let signalled = Date()
        process.terminate()   // SIGTERM
        try await waitUntil(seconds: 20) { !process.isRunning }
        let exitSeconds = Date().timeIntervalSince(signalled)
        XCTAssertEqual(process.terminationStatus, 0, output.text)
        XCTAssertLessThan(exitSeconds, 5, "the server did not wait for the 4000-token answer")
        try await waitUntil(seconds: 5) { stream.finished }
        let events = SSEEvent.parse(try stream.response().text)
        XCTAssertGreaterThan(events.filter { $0.name == "token" }.count, 2)
        XCTAssertEqual(events.last?.name, "error", stream.text)
        XCTAssertEqual((events.last?.json["error"] as? [String: Any])?["code"] as? String, "shutting_down")
        let refused = try await waiting.value
        XCTAssertEqual(refused.status, 503, refused.text)
        XCTAssertEqual(refused.errorCode, "shutting_down")
        XCTAssertTrue(output.text.contains("cancelling 1 running and 1 waiting generations"), output.text)
    }

    func testBadSettingsExitWithTheirName() throws {
        let result = try CommandRunner.run(["serve", "--no-embed", "--port", "70000", "--db", "/tmp/never-created.sqlite"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("--port"), result.stderr)
        let config = try CommandRunner.run(["serve", "--no-embed", "--config", "/nonexistent/serve.json"])
        XCTAssertEqual(config.status, 1)
        XCTAssertTrue(config.stderr.contains("/nonexistent/serve.json"), config.stderr)
    }

    /// Starts `kb serve --port 0 ARGUMENTS` on `database` (key `cli-key-1`) and waits for its
    /// "listening on" line; fails the test with the process's output when it does not come.
    private func startServer(_ arguments: [String], database: String) async throws -> (Process, LineCollector, Int) {
        let running = try CommandRunner.start(["serve", "--port", "0"] + arguments,
                                              environment: ["KB_DB": database, "KB_API_KEYS": "cli-key-1", "KB_LOG_LEVEL": "info"])
        let process = running.process
        let output = LineCollector(running.standardErrorPipe, running.standardOutputPipe)
        try await waitUntil(seconds: 60) { output.text.contains("listening on http://") || !process.isRunning }
        let text = output.text
        guard let range = text.range(of: #"listening on http://127\.0\.0\.1:(\d+)"#, options: .regularExpression),
              let port = Int(text[range].split(separator: ":").last ?? "") else {
            if process.isRunning { process.terminate() }
            throw ServerDidNotStart(output: text)
        }
        return (process, output, port)
    }
}

/// `kb serve` exited or stayed silent instead of printing its "listening on" line.
struct ServerDidNotStart: Error, CustomStringConvertible {
    let output: String
    var description: String { "kb serve did not start listening: \(output)" }
}

/// Collects a child process's output as it arrives.
final class LineCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    init(_ pipes: Pipe...) {
        for pipe in pipes {
            pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
                let chunk = handle.availableData
                guard let self, !chunk.isEmpty else { return }
                self.lock.withLock { self.data.append(chunk) }
            }
        }
    }

    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
}
