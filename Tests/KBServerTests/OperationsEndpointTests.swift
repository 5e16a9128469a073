import Foundation
import XCTest

final class OperationsEndpointTests: XCTestCase {
    func testHealthAndReadiness() async throws {
        let server = try await TestServer(self)
        let health = try await server.client.request("GET", "/healthz")
        XCTAssertEqual(health.status, 200)
        XCTAssertEqual(health.json["status"] as? String, "ok")
        let ready = try await server.client.request("GET", "/readyz")
        XCTAssertEqual(ready.status, 200, ready.text)
        XCTAssertEqual(ready.json["status"] as? String, "ready")
        let checks = try XCTUnwrap(ready.json["checks"] as? [String: String])
        XCTAssertEqual(checks["database"], "ok")
        XCTAssertTrue(checks["index"]?.hasPrefix("loaded (") ?? false, "\(checks)")
        XCTAssertEqual(checks["model"], "loaded (scripted-test-model)")
    }

    func testReadinessFailsWhenTheConfiguredModelIsMissing() async throws {
        let server = try await TestServer(self, generator: nil) { $0.model = "/models/absent.gguf" }
        let ready = try await server.client.request("GET", "/readyz")
        XCTAssertEqual(ready.status, 503)
        XCTAssertEqual((ready.json["checks"] as? [String: String])?["model"], "not loaded")
    }

    func testMetricsAreValidPrometheusTextAndCountRequests() async throws {
        let server = try await TestServer(self)
        for _ in 0..<3 { _ = try await server.client.json("POST", "/v1/search", ["query": "logs"]) }
        _ = try await server.client.json("POST", "/v1/search", ["query": ""])
        _ = try await server.client.request("GET", "/nope")
        _ = try await server.client.json("POST", "/v1/ask", ["question": "how are logs rotated"])

        let response = try await server.client.request("GET", "/metrics")
        XCTAssertEqual(response.status, 200)
        XCTAssertTrue(response.headers["content-type"]?.hasPrefix("text/plain") ?? false)
        let metrics = try PrometheusTextParser.parse(response.text)

        func requests(_ route: String, _ status: String) -> Double? {
            metrics.samples("kb_http_requests_total")
                .first { $0.labels["route"] == route && $0.labels["status"] == status && $0.labels["method"] == "POST" }?.value
        }
        XCTAssertEqual(requests("/v1/search", "200"), 3)
        XCTAssertEqual(requests("/v1/search", "400"), 1)
        XCTAssertEqual(metrics.samples("kb_http_requests_total").first { $0.labels["status"] == "404" }?.value, 1)
        let latency = metrics.samples("kb_http_request_duration_seconds_count")
            .first { $0.labels["route"] == "/v1/search" && $0.labels["status"] == "200" }
        XCTAssertEqual(latency?.value, 3)
        XCTAssertEqual(metrics.families["kb_http_request_duration_seconds"]?.type, "histogram")
        XCTAssertEqual(metrics.samples("kb_search_duration_seconds_count").reduce(0) { $0 + $1.value }, 4,
                       "three searches and the ask's retrieval")
        XCTAssertEqual(metrics.samples("kb_documents").first?.value, 3)
        XCTAssertEqual(metrics.samples("kb_index_vectors").first?.value, metrics.samples("kb_chunks").first?.value)
        XCTAssertGreaterThan(metrics.samples("kb_index_vectors").first?.value ?? 0, 0)
        XCTAssertEqual(metrics.samples("kb_generation_time_to_first_token_seconds_count").first?.value, 1)
        XCTAssertGreaterThan(metrics.samples("kb_generated_tokens_total").first?.value ?? 0, 0)
        XCTAssertEqual(metrics.samples("kb_generation_queue_depth").first?.value, 0)
        XCTAssertNotNil(metrics.samples("kb_prefix_cache_hit_tokens_total").first)
    }

    /// A streamed answer's handler returns at once; its request latency is the stream's, taken when
    /// the last byte has been written.
    func testAStreamedAnswersLatencyIsTakenAfterItsBodyIsWritten() async throws {
        let server = try await TestServer(self)
        let generator = try XCTUnwrap(server.generator)
        generator.delayPerPiece = 0.1   // about 15 pieces: at least 1 s of stream
        let streamed = try await server.client.json("POST", "/v1/ask", ["question": "How are old logs compressed?", "stream": true])
        XCTAssertEqual(SSEEvent.parse(streamed.text).last?.name, "done")
        let metrics = try PrometheusTextParser.parse(try await server.client.request("GET", "/metrics").text)
        let ask = metrics.samples("kb_http_request_duration_seconds_sum").first { $0.labels["route"] == "/v1/ask" }
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(ask).value, 1.0, "the latency covers the whole stream")
    }

    func testTheParserRejectsMalformedExpositions() {
        let bad = [
            "kb_x 1\n",                                             // no TYPE
            "# TYPE kb_x counter\nkb_x{a=\"1} 1\n",                 // unterminated value
            "# TYPE kb_x counter\nkb_x{1a=\"1\"} 1\n",              // bad label name
            "# TYPE kb_x counter\nkb_x one\n",                      // bad value
            "# TYPE kb_x counter\nkb_x 1\nkb_x 2\n",                // duplicate series
            "# TYPE kb_h histogram\nkb_h_bucket{le=\"1\"} 2\nkb_h_bucket{le=\"+Inf\"} 1\nkb_h_sum 1\nkb_h_count 1\n",
            "# TYPE kb_h histogram\nkb_h_bucket{le=\"+Inf\"} 2\nkb_h_sum 1\nkb_h_count 3\n",
            "# TYPE kb_x counter\nkb_x 1",                          // no final newline
        ]
        for text in bad {
            XCTAssertThrowsError(try PrometheusTextParser.parse(text), text)
        }
        XCTAssertNoThrow(try PrometheusTextParser.parse(
            "# HELP kb_h latency\n# TYPE kb_h histogram\nkb_h_bucket{le=\"0.5\"} 1\nkb_h_bucket{le=\"+Inf\"} 2\nkb_h_sum 1.5\nkb_h_count 2\n"))
    }
}
