import Foundation
@testable import KBServer
import XCTest

final class OpenAPIContractTests: XCTestCase {
    func testEveryRouteIsDocumentedAndEveryDocumentedRouteExists() async throws {
        let contract = try OpenAPIContract()
        let server = try await TestServer(self)
        var served: [String: Set<String>] = [:]
        for route in server.server.routeTable.routes {
            let path = "/" + route.segments.map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
            served[path, default: []].insert(route.method.rawValue.lowercased())
        }
        XCTAssertEqual(served, contract.operations)
    }

    func testRealResponsesMatchTheSpec() async throws {
        let contract = try OpenAPIContract()
        let server = try await TestServer(self)
        let client = server.client
        let key = ["X-API-Key": TestServer.apiKey]
        var checked: [(String, String, HTTPTestResponse)] = []
        func check(_ method: String, _ path: String, _ response: HTTPTestResponse) {
            checked.append((method, path, response))
            XCTAssertEqual(contract.problems(method, path, response), [], "\(method) \(path) \(response.status): \(response.text.prefix(300))")
        }
        check("GET", "/healthz", try await client.request("GET", "/healthz"))
        check("GET", "/readyz", try await client.request("GET", "/readyz"))
        check("GET", "/metrics", try await client.request("GET", "/metrics"))
        check("POST", "/v1/search", try await client.json("POST", "/v1/search", ["query": "log rotation", "top_k": 3]))
        check("POST", "/v1/search", try await client.json("POST", "/v1/search", ["query": ""]))
        check("POST", "/v1/search", try await client.json("POST", "/v1/search", ["query": "x", "top_k": 1000]))
        let upload = try await client.json("POST", "/v1/documents", ["id": "spec", "title": "Spec", "text": "Contract testing of the API.",
                                                                     "metadata": ["n": 1]], headers: key)
        check("POST", "/v1/documents", upload)
        check("POST", "/v1/documents", try await client.json("POST", "/v1/documents", ["id": "spec", "title": "Spec",
                                                                                       "text": "Contract testing of the API.",
                                                                                       "metadata": ["n": 1]], headers: key))
        check("POST", "/v1/documents", try await client.json("POST", "/v1/documents", ["id": "x", "text": "y"]))
        check("POST", "/v1/documents", try await client.json("POST", "/v1/documents", ["id": "x"], headers: key))
        let id = ((upload.json["documents"] as? [[String: Any]])?.first?["document_id"] as? NSNumber)?.int64Value ?? 0
        check("GET", "/v1/documents/{id}", try await client.request("GET", "/v1/documents/\(id)"))
        check("GET", "/v1/documents/{id}", try await client.request("GET", "/v1/documents/999999"))
        check("GET", "/v1/documents/{id}", try await client.request("GET", "/v1/documents/x"))
        check("DELETE", "/v1/documents/{id}", try await client.request("DELETE", "/v1/documents/\(id)", headers: key))
        check("DELETE", "/v1/documents/{id}", try await client.request("DELETE", "/v1/documents/\(id)", headers: key))
        check("POST", "/v1/ask", try await client.json("POST", "/v1/ask", ["question": "How are old logs compressed?"]))
        check("POST", "/v1/ask", try await client.json("POST", "/v1/ask", ["question": "How are old logs compressed?", "stream": true]))
        check("POST", "/v1/ask", try await client.json("POST", "/v1/ask", ["question": 3]))
        check("POST", "/v1/chat/completions", try await client.json("POST", "/v1/chat/completions", [
            "messages": [["role": "user", "content": "How are old logs compressed?"]]]))
        check("POST", "/v1/chat/completions", try await client.json("POST", "/v1/chat/completions", [
            "stream": true, "messages": [["role": "user", "content": "How are old logs compressed?"]]]))
        check("POST", "/v1/chat/completions", try await client.json("POST", "/v1/chat/completions", ["model": "other", "messages": [["role": "user", "content": "x"]]]))
        check("GET", "/v1/models", try await client.request("GET", "/v1/models"))
        XCTAssertEqual(Set(checked.map { "\($0.0) \($0.1)" }).count, 10, "every operation was exercised")
        // The checker can fail.
        let wrong = HTTPTestResponse(status: 200, headers: ["content-type": "application/json"], body: Data(#"{"query": 1}"#.utf8))
        XCTAssertFalse(contract.problems("POST", "/v1/search", wrong).isEmpty)
        let undocumented = HTTPTestResponse(status: 418, headers: [:], body: Data())
        XCTAssertFalse(contract.problems("GET", "/healthz", undocumented).isEmpty)
    }
}
