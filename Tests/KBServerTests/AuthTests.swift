import Foundation
@testable import KBServer
import XCTest

final class AuthTests: XCTestCase {
    func testWritesNeedAValidKeyAndKeysAreNeverLogged() async throws {
        let server = try await TestServer(self)
        let document = ["id": "k", "text": "Keyed document."]
        let missing = try await server.client.json("POST", "/v1/documents", document)
        XCTAssertEqual(missing.status, 401)
        XCTAssertEqual(missing.errorCode, "missing_api_key")
        XCTAssertEqual(missing.headers["www-authenticate"], "Bearer")
        let wrong = try await server.client.json("POST", "/v1/documents", document, headers: ["Authorization": "Bearer nope-\(TestServer.apiKey)"])
        XCTAssertEqual(wrong.status, 401)
        XCTAssertEqual(wrong.errorCode, "invalid_api_key")
        let delete = try await server.client.request("DELETE", "/v1/documents/1")
        XCTAssertEqual(delete.status, 401)
        let bearer = try await server.client.json("POST", "/v1/documents", document, headers: ["Authorization": "Bearer \(TestServer.apiKey)"])
        XCTAssertEqual(bearer.status, 201, bearer.text)
        let header = try await server.client.json("POST", "/v1/documents", ["id": "k2", "text": "Another."],
                                                   headers: ["X-API-Key": TestServer.apiKey])
        XCTAssertEqual(header.status, 201)
        // Reads are open by default.
        let search = try await server.client.json("POST", "/v1/search", ["query": "keyed"])
        XCTAssertEqual(search.status, 200)
        XCTAssertFalse(server.logs.lines.isEmpty)
        for line in server.logs.lines {
            XCTAssertFalse(line.contains(TestServer.apiKey), "a key was logged: \(line)")
        }
    }

    func testReadsCanRequireAKeyAndOperationsStayOpen() async throws {
        let server = try await TestServer(self) { $0.readsRequireKey = true }
        let search = try await server.client.json("POST", "/v1/search", ["query": "logs"])
        XCTAssertEqual(search.status, 401)
        let keyed = try await server.client.json("POST", "/v1/search", ["query": "logs"], headers: ["Authorization": "Bearer \(TestServer.apiKey)"])
        XCTAssertEqual(keyed.status, 200)
        for path in ["/healthz", "/readyz", "/metrics"] {
            let response = try await server.client.request("GET", path)
            XCTAssertEqual(response.status, 200, path)
        }
    }

    func testWithoutKeysWritesAreDisabledUnlessAnonymousWritesAreAllowed() async throws {
        let closed = try await TestServer(self) { $0.apiKeys = [] }
        let refused = try await closed.client.json("POST", "/v1/documents", ["id": "x", "text": "x"])
        XCTAssertEqual(refused.status, 403)
        XCTAssertEqual(refused.errorCode, "writes_disabled")
        let open = try await TestServer(self) { $0.apiKeys = []; $0.anonymousWrites = true }
        let accepted = try await open.client.json("POST", "/v1/documents", ["id": "x", "text": "x marks the spot"])
        XCTAssertEqual(accepted.status, 201)
    }

    /// The bypass that was reported: the key check read the path's text (`hasPrefix("/v1/")`) while
    /// the router dropped empty segments, so `//v1/documents` wrote and `/v1//documents/1` deleted
    /// without a key. Odd paths are now refused before anything else, and the key check belongs to
    /// the route the router matched.
    func testNonCanonicalPathsReachNoRouteAndBypassNoKey() async throws {
        let server = try await TestServer(self) { $0.readsRequireKey = true }
        let id = try await server.documentID("rotate")
        let document = try JSONSerialization.data(withJSONObject: ["id": "sneaky", "text": "Written without a key."])
        let attempts: [(method: String, path: String)] = [
            ("POST", "//v1/documents"), ("POST", "/v1//documents"), ("POST", "/v1/documents/"),
            ("POST", "/v1/./documents"), ("POST", "/v1/x/../documents"), ("POST", "/v1/%2e%2e/v1/documents"),
            ("POST", "/v1%2Fdocuments"), ("DELETE", "/v1//documents/\(id)"), ("DELETE", "//v1/documents/\(id)"),
            ("DELETE", "/v1/documents/./\(id)"), ("POST", "//v1/search"), ("GET", "/v1//documents/\(id)"),
            ("POST", "/v1//ask"), ("POST", "//v1/chat/completions"),
        ]
        for attempt in attempts {
            let body = attempt.method == "POST" ? document : nil
            let response = try await server.client.request(attempt.method, attempt.path,
                                                           headers: ["Content-Type": "application/json"], body: body)
            XCTAssertEqual(response.status, 400, "\(attempt.method) \(attempt.path): \(response.text)")
            XCTAssertEqual(response.errorCode, "non_canonical_path", "\(attempt.method) \(attempt.path)")
        }
        let keyed = ["Authorization": "Bearer \(TestServer.apiKey)"]
        let stored = try await server.client.request("GET", "/v1/documents/\(id)", headers: keyed)
        XCTAssertEqual(stored.status, 200, "the document survived: \(stored.text)")
        let search = try await server.client.json("POST", "/v1/search", ["query": "written without a key"], headers: keyed)
        XCTAssertFalse(search.text.contains("sneaky"), "nothing was written")
    }

    /// Every `/v1/` route asks for a key by the access level of its router group: writes always,
    /// reads with `--reads-require-key`; the operations routes never.
    func testEveryRouteChecksTheKeyOfItsAccessLevel() async throws {
        let server = try await TestServer(self) { $0.readsRequireKey = true }
        let open: Set<String> = ["GET /healthz", "GET /readyz", "GET /metrics"]
        var checked = 0
        for route in server.server.routeTable.routes {
            let path = "/" + route.segments.map { $0.hasPrefix(":") ? "1" : String($0) }.joined(separator: "/")
            let name = "\(route.method.rawValue) \(path)"
            let body = route.method == .post ? Data("{}".utf8) : nil
            let response = try await server.client.request(route.method.rawValue, path,
                                                           headers: ["Content-Type": "application/json"], body: body)
            if open.contains(name) {
                XCTAssertEqual(response.status, 200, name)
            } else {
                XCTAssertEqual(response.status, 401, "\(name): \(response.text)")
                checked += 1
            }
        }
        XCTAssertEqual(checked, 7, "every /v1/ route was checked")
    }

    func testKeyComparison() {
        let keys = APIKeys(["alpha-key", " beta-key ", ""])
        XCTAssertEqual(keys.count, 2)
        XCTAssertTrue(keys.accepts("alpha-key"))
        XCTAssertTrue(keys.accepts("beta-key"))
        XCTAssertFalse(keys.accepts("alpha-ke"))
        XCTAssertFalse(keys.accepts("alpha-key2"))
        XCTAssertFalse(keys.accepts(""))
        XCTAssertFalse(APIKeys([]).accepts(""))
    }
}
