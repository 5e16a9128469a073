import Foundation
import XCTest

final class ErrorHandlingTests: XCTestCase {
    func testUnknownRoutesAndMethodsAreJSONErrors() async throws {
        let server = try await TestServer(self)
        let unknown = try await server.client.request("GET", "/v1/nothing-here")
        XCTAssertEqual(unknown.status, 404)
        XCTAssertEqual(unknown.errorCode, "unknown_route")
        XCTAssertTrue(unknown.headers["content-type"]?.hasPrefix("application/json") ?? false)

        let wrongMethod = try await server.client.request("GET", "/v1/search")
        XCTAssertEqual(wrongMethod.status, 405)
        XCTAssertEqual(wrongMethod.errorCode, "method_not_allowed")
        XCTAssertEqual(wrongMethod.headers["allow"], "POST")

        let wrongMethodWithParameter = try await server.client.request("PUT", "/v1/documents/3")
        XCTAssertEqual(wrongMethodWithParameter.status, 405)
        XCTAssertEqual(wrongMethodWithParameter.headers["allow"], "GET, DELETE")

        let badID = try await server.client.request("GET", "/v1/documents/abc")
        XCTAssertEqual(badID.status, 400)
        XCTAssertEqual(badID.errorCode, "invalid_id")
        XCTAssertNotNil(unknown.headers["x-request-id"], "every response carries its request id")
    }

    func testHugeBodiesAreRefusedWith413() async throws {
        let server = try await TestServer(self) { $0.maxBodyBytes = 4096 }
        let huge = Data(("{\"query\": \"" + String(repeating: "a", count: 10_000) + "\"}").utf8)
        let declared = try await server.client.request("POST", "/v1/search", headers: ["Content-Type": "application/json"], body: huge)
        XCTAssertEqual(declared.status, 413, declared.text)
        XCTAssertEqual(declared.errorCode, "body_too_large")
        // Chunked, so the size is only found while reading.
        var chunked = "POST /v1/search HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
        for _ in 0..<10 { chunked += "3e8\r\n" + String(repeating: "b", count: 1000) + "\r\n" }
        chunked += "0\r\n\r\n"
        let raw = try await server.client.raw(Data(chunked.utf8))
        let response = try HTTPTestClient.parse(raw)
        XCTAssertEqual(response.status, 413, response.text)
        XCTAssertEqual(response.errorCode, "body_too_large")
        // The server is still fine.
        let health = try await server.client.request("GET", "/healthz")
        XCTAssertEqual(health.status, 200)
    }

    func testSlowClientGets408AndOthersAreServed() async throws {
        let server = try await TestServer(self) { $0.bodyTimeout = 0.5 }
        let body = #"{"query": "logs"}"#
        let request = "POST /v1/search HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.utf8.count)\r\n\r\n" + body
        async let slow = server.client.raw(Data(request.utf8), pauseAfterBytes: request.utf8.count - 5, pause: 2)
        // Meanwhile other clients are answered.
        let other = try await server.client.json("POST", "/v1/search", ["query": "kernel"])
        XCTAssertEqual(other.status, 200)
        let response = try HTTPTestClient.parse(try await slow)
        XCTAssertEqual(response.status, 408, response.text)
        XCTAssertEqual(response.errorCode, "request_timeout")
    }

    func testGarbageRequestsDoNotHurtTheServer() async throws {
        let server = try await TestServer(self)
        _ = try? await server.client.raw(Data("NOT HTTP AT ALL\r\n\r\n".utf8), timeout: 2)
        _ = try? await server.client.raw(Data([0x00, 0xFF, 0x13, 0x37]), timeout: 2)
        let binary = try await server.client.request("POST", "/v1/search", headers: ["Content-Type": "application/json"],
                                                     body: Data([0xFF, 0xFE, 0x00, 0x7B]))
        XCTAssertEqual(binary.status, 400)
        let health = try await server.client.request("GET", "/healthz")
        XCTAssertEqual(health.status, 200)
    }

    /// A number that does not fit its field (`-1` for the unsigned seed, `1.5` for top_k) or a value of
    /// the wrong type is named as such; the body was valid JSON (it was reported as "not valid JSON",
    /// and an unsigned field's type as "an object").
    func testValuesOfTheWrongKindAreNamedNotCalledInvalidJSON() async throws {
        let server = try await TestServer(self)
        for (body, shown) in [(["question": "logs", "seed": -1] as [String: Any], "-1"), (["question": "logs", "top_k": 1.5], "1.5")] {
            let response = try await server.client.json("POST", "/v1/ask", body)
            XCTAssertEqual(response.status, 400, response.text)
            XCTAssertEqual(response.errorCode, "invalid_field", response.text)
            XCTAssertTrue(response.errorMessage?.contains(shown) ?? false, response.text)
            XCTAssertFalse(response.errorMessage?.contains("not valid JSON") ?? true, response.text)
        }
        let typed = try await server.client.json("POST", "/v1/ask", ["question": "logs", "seed": "seven"])
        XCTAssertEqual(typed.status, 400)
        XCTAssertEqual(typed.errorMessage, "field 'seed' must be a non-negative integer", typed.text)
        let broken = try await server.client.request("POST", "/v1/ask", headers: ["Content-Type": "application/json"],
                                                     body: Data(#"{"question": "logs", "seed": }"#.utf8))
        XCTAssertEqual(broken.errorCode, "invalid_json", "truly invalid JSON is still called so")
    }
}
