import Foundation
@testable import KBServer
import XCTest

/// What schemathesis (scripts/schemathesis.sh) found against `schemas/openapi.yaml`, each kept as a
/// test of the server and of the spec: the contract now says what the server does.
final class SchemathesisFindingsTests: XCTestCase {
    /// `{"id": false}` was stored as the record "0": a boolean is not an id.
    func testABooleanRecordIDIsRefused() async throws {
        let server = try await TestServer(self)
        let key = ["X-API-Key": TestServer.apiKey]
        for id: Any in [false, true] {
            let response = try await server.client.json("POST", "/v1/documents", ["id": id, "text": "t"], headers: key)
            XCTAssertEqual(response.status, 400, "\(id): \(response.text)")
            XCTAssertTrue(response.text.contains("field \\\"id\\\" must be a non-empty string or an integer"), response.text)
        }
        let contract = try OpenAPIContract()
        XCTAssertEqual(contract.schema("DocumentInput")?["required"] as? [String], ["id", "text"])
    }

    /// `filters.metadata: null` (and null for every other optional field) is the field left out:
    /// the server always did so, the spec now says so instead of calling it invalid.
    func testNullOptionalFieldsAreAcceptedAndDocumented() async throws {
        let server = try await TestServer(self)
        let search = try await server.client.json("POST", "/v1/search", [
            "query": "log rotation", "mode": NSNull(), "top_k": NSNull(),
            "filters": ["metadata": NSNull(), "uri_prefix": NSNull(), "updated_after": NSNull(), "updated_before": NSNull()],
        ])
        XCTAssertEqual(search.status, 200, search.text)
        let contract = try OpenAPIContract()
        for name in ["SearchRequest", "Filters", "AskRequest", "ChatCompletionRequest"] {
            let schema = try XCTUnwrap(contract.schema(name), name)
            let required = Set(schema["required"] as? [String] ?? [])
            for (field, property) in try XCTUnwrap(schema["properties"] as? [String: Any]) where !required.contains(field) {
                XCTAssertTrue(Self.admitsNull(property as? [String: Any] ?? [:]), "\(name).\(field) does not admit null")
            }
        }
    }

    /// The spec's links from an upload to GET/DELETE /v1/documents/{id} pass the server's
    /// `document_id`, never the record's own `id` (schemathesis guessed that from the names).
    func testUploadLinksPassTheDocumentID() throws {
        let contract = try OpenAPIContract()
        let links = try XCTUnwrap((contract.spec["components"] as? [String: Any])?["links"] as? [String: Any])
        XCTAssertFalse(links.isEmpty)
        for (name, link) in links {
            let parameters = (link as? [String: Any])?["parameters"] as? [String: String]
            XCTAssertEqual(parameters, ["id": "$response.body#/documents/0/document_id"], name)
        }
    }

    /// A document_id in the path is written in digits: the server refuses "5.0" (schemathesis sent
    /// such integral floats for the spec's old `type: integer`), and the spec now says digits.
    func testDocumentIDInThePathIsDigits() async throws {
        let server = try await TestServer(self)
        let response = try await server.client.request("GET", "/v1/documents/5.0")
        XCTAssertEqual(response.status, 400, response.text)
        let contract = try OpenAPIContract()
        let path = try XCTUnwrap((contract.spec["paths"] as? [String: Any])?["/v1/documents/{id}"] as? [String: Any])
        let parameter = try XCTUnwrap((path["parameters"] as? [[String: Any]])?.first)
        let pattern = try XCTUnwrap((parameter["schema"] as? [String: Any])?["pattern"] as? String)
        let regex = try NSRegularExpression(pattern: pattern)
        func matches(_ text: String) -> Bool {
            regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
        }
        XCTAssertTrue(matches("5") && matches("123456789012345678"))
        XCTAssertFalse(matches("5.0") || matches("0") || matches("+5") || matches("05"))
    }

    private static func admitsNull(_ property: [String: Any]) -> Bool {
        if let types = property["type"] as? [String] { return types.contains("null") }
        if let options = property["oneOf"] as? [[String: Any]] {
            return options.contains { ($0["type"] as? String) == "null" }
        }
        return false
    }
}

extension OpenAPIContract {
    /// `components.schemas[name]`.
    func schema(_ name: String) -> [String: Any]? {
        ((spec["components"] as? [String: Any])?["schemas"] as? [String: Any])?[name] as? [String: Any]
    }
}
