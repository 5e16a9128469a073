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
