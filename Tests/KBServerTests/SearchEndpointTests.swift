import Foundation
import XCTest

final class SearchEndpointTests: XCTestCase {
    func testHybridSearchReturnsRankedChunksWithTheCLIShape() async throws {
        let server = try await TestServer(self)
        let response = try await server.client.json("POST", "/v1/search", ["query": "how are log files rotated", "top_k": 2])
        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertEqual(response.json["mode"] as? String, "hybrid")
        XCTAssertEqual(response.json["query"] as? String, "how are log files rotated")
        let results = try XCTUnwrap(response.json["results"] as? [[String: Any]])
        XCTAssertFalse(results.isEmpty)
        XCTAssertLessThanOrEqual(results.count, 2)
        let first = results[0]
        XCTAssertEqual(first["title"] as? String, "Log rotation")
        XCTAssertEqual(first["uri"] as? String, "rotate", "the document's identity: its record id")
        XCTAssertEqual(first["url"] as? String, "https://docs.example/rotate", "and where to read it")
        let documentID = try await server.documentID("rotate")
        XCTAssertEqual((first["document_id"] as? NSNumber)?.int64Value, documentID)
        for key in ["score", "text", "snippet", "chunk_id", "start_offset", "end_offset", "heading_path"] {
            XCTAssertNotNil(first[key], "missing \(key)")
        }
        // The offsets are an exact span of the document text.
        let document = try await server.client.request("GET", "/v1/documents/\(documentID)")
        let text = try XCTUnwrap(document.json["text"] as? String)
        let start = try XCTUnwrap(first["start_offset"] as? Int), end = try XCTUnwrap(first["end_offset"] as? Int)
        let span = String(String.UnicodeScalarView(Array(text.unicodeScalars)[start..<end]))
        XCTAssertEqual(span, first["text"] as? String)
        let snippet = try XCTUnwrap(first["snippet"] as? [String: Any])
        XCTAssertFalse((snippet["highlights"] as? [Any] ?? []).isEmpty, "the snippet marks the matched words")
        let scores = results.compactMap { $0["score"] as? Double }
        XCTAssertEqual(scores, scores.sorted(by: >))
    }

    func testLexicalAndVectorModesAndFilters() async throws {
        let server = try await TestServer(self)
        let lexical = try await server.client.json("POST", "/v1/search", ["query": "reboot", "mode": "lexical"])
        XCTAssertEqual(lexical.status, 200)
        XCTAssertEqual(lexical.json["mode"] as? String, "lexical")
        XCTAssertEqual((lexical.json["results"] as? [[String: Any]])?.first?["title"] as? String, "Kernel upgrades")

        let vector = try await server.client.json("POST", "/v1/search", ["query": "database backup archive", "mode": "vector", "top_k": 1])
        XCTAssertEqual(vector.status, 200)
        XCTAssertEqual((vector.json["results"] as? [[String: Any]])?.first?["title"] as? String, "Database backups")

        let filtered = try await server.client.json("POST", "/v1/search", [
            "query": "logs backup reboot", "mode": "lexical", "filters": ["metadata": ["team": "ops"]],
        ])
        let titles = Set(((filtered.json["results"] as? [[String: Any]]) ?? []).compactMap { $0["title"] as? String })
        XCTAssertEqual(titles, ["Log rotation", "Kernel upgrades"])

        let prefixed = try await server.client.json("POST", "/v1/search", [
            "query": "logs backup reboot", "mode": "lexical", "filters": ["uri_prefix": "https://docs.example/"],
        ])
        XCTAssertEqual(((prefixed.json["results"] as? [[String: Any]]) ?? []).compactMap { $0["title"] as? String }, ["Log rotation"])
    }

    func testSearchSyntaxIsTreatedAsWords() async throws {
        let server = try await TestServer(self)
        for query in ["reboot AND (", "\"unbalanced", "title:kernel*", "NEAR(a b", "reboot OR -", "^*"] {
            let response = try await server.client.json("POST", "/v1/search", ["query": query, "mode": "lexical"])
            XCTAssertEqual(response.status, 200, "\(query): \(response.text)")
            XCTAssertNotNil(response.json["results"] as? [Any], query)
        }
    }

    func testBadSearchRequestsAreClientErrors() async throws {
        let server = try await TestServer(self)
        let cases: [(Any, String)] = [
            (["query": ""], "empty_query"),
            (["query": "   \n"], "empty_query"),
            (["query": "logs", "top_k": 0], "top_k_out_of_range"),
            (["query": "logs", "top_k": 101], "top_k_out_of_range"),
            (["query": "logs", "top_k": "ten"], "invalid_field"),
            (["query": 42], "invalid_field"),
            (["query": "logs", "mode": "fuzzy"], "invalid_mode"),
            (["query": "logs", "filters": ["metadata": ["team": 3]]], "invalid_field"),
            (["top_k": 3], "missing_field"),
            ([1, 2, 3], "invalid_json"),
        ]
        for (body, code) in cases {
            let response = try await server.client.json("POST", "/v1/search", body)
            XCTAssertEqual(response.status, 400, "\(body): \(response.text)")
            XCTAssertEqual(response.errorCode, code, "\(body): \(response.text)")
            XCTAssertFalse(response.errorMessage?.isEmpty ?? true)
        }
        let malformed = try await server.client.request("POST", "/v1/search", headers: ["Content-Type": "application/json"],
                                                        body: Data(#"{"query": "logs",,}"#.utf8))
        XCTAssertEqual(malformed.status, 400)
        XCTAssertEqual(malformed.errorCode, "invalid_json")
        let empty = try await server.client.request("POST", "/v1/search", body: Data())
        XCTAssertEqual(empty.status, 400)
        XCTAssertEqual(empty.errorCode, "empty_body")
        let messageNamesField = try await server.client.json("POST", "/v1/search", ["query": "logs", "top_k": "ten"])
        XCTAssertTrue(messageNamesField.errorMessage?.contains("top_k") ?? false, messageNamesField.text)
    }
}
