import Foundation
@testable import KBServer
import XCTest

final class DocumentEndpointTests: XCTestCase {
    private let auth = ["Authorization": "Bearer \(TestServer.apiKey)"]

    func testPostGetDeleteAndTheIndexFollows() async throws {
        let server = try await TestServer(self)
        let post = try await server.client.json("POST", "/v1/documents", [
            "id": "tides", "title": "Tide tables", "text": "Spring tides follow the full moon. Neap tides are weaker.",
            "metadata": ["team": "sea", "draft": true],
        ], headers: auth)
        XCTAssertEqual(post.status, 201, post.text)
        XCTAssertEqual(post.json["added"] as? Int, 1)
        let outcome = try XCTUnwrap((post.json["documents"] as? [[String: Any]])?.first)
        XCTAssertEqual(outcome["status"] as? String, "added")
        XCTAssertEqual(outcome["id"] as? String, "tides")
        let id = try XCTUnwrap((outcome["document_id"] as? NSNumber)?.int64Value)

        // Found at once by vector search: the index was updated without a reload.
        let vector = try await server.client.json("POST", "/v1/search", ["query": "spring tides moon", "mode": "vector", "top_k": 1])
        XCTAssertEqual(((vector.json["results"] as? [[String: Any]])?.first?["document_id"] as? NSNumber)?.int64Value, id)

        let get = try await server.client.request("GET", "/v1/documents/\(id)")
        XCTAssertEqual(get.status, 200)
        XCTAssertEqual(get.json["id"] as? String, "tides")
        XCTAssertEqual(get.json["title"] as? String, "Tide tables")
        XCTAssertEqual((get.json["metadata"] as? [String: Any])?["draft"] as? Bool, true)
        XCTAssertFalse((get.json["chunks"] as? [Any] ?? []).isEmpty)

        let again = try await server.client.json("POST", "/v1/documents", [
            "id": "tides", "title": "Tide tables", "text": "Spring tides follow the full moon. Neap tides are weaker.",
            "metadata": ["team": "sea", "draft": true],
        ], headers: auth)
        XCTAssertEqual(again.status, 200)
        XCTAssertEqual(again.json["unchanged"] as? Int, 1)

        let delete = try await server.client.request("DELETE", "/v1/documents/\(id)", headers: auth)
        XCTAssertEqual(delete.status, 200, delete.text)
        XCTAssertEqual(delete.json["deleted"] as? Bool, true)
        let gone = try await server.client.request("GET", "/v1/documents/\(id)")
        XCTAssertEqual(gone.status, 404)
        XCTAssertEqual(gone.errorCode, "not_found")
        let deleteAgain = try await server.client.request("DELETE", "/v1/documents/\(id)", headers: auth)
        XCTAssertEqual(deleteAgain.status, 404)
        let after = try await server.client.json("POST", "/v1/search", ["query": "spring tides moon", "mode": "vector", "top_k": 5])
        let ids = ((after.json["results"] as? [[String: Any]]) ?? []).compactMap { ($0["document_id"] as? NSNumber)?.int64Value }
        XCTAssertFalse(ids.contains(id), "deleted chunks left the vector index")
    }

    func testJSONLinesUploadAndUpdateReplacesChunks() async throws {
        let server = try await TestServer(self)
        let lines = [
            #"{"id": "a", "text": "Alpha particles are helium nuclei."}"#,
            "",
            #"{"id": "b", "title": "Beta", "text": "Beta decay emits an electron."}"#,
            #"{"id": "c", "text": "   "}"#,
        ].joined(separator: "\n")
        let post = try await server.client.request("POST", "/v1/documents",
                                                   headers: auth.merging(["Content-Type": "application/x-ndjson"]) { $1 },
                                                   body: Data(lines.utf8))
        XCTAssertEqual(post.status, 201, post.text)
        XCTAssertEqual(post.json["added"] as? Int, 2)
        XCTAssertEqual(post.json["skipped"] as? Int, 1)
        let update = try await server.client.json("POST", "/v1/documents", ["id": "a", "text": "Alpha rays barely pass paper."],
                                                  headers: auth)
        XCTAssertEqual(update.json["updated"] as? Int, 1)
        let old = try await server.client.json("POST", "/v1/search", ["query": "helium nuclei", "mode": "lexical"])
        XCTAssertEqual((old.json["results"] as? [Any])?.count, 0, "the replaced chunks are gone")
        let new = try await server.client.json("POST", "/v1/search", ["query": "paper alpha", "mode": "vector", "top_k": 1])
        XCTAssertEqual((new.json["results"] as? [[String: Any]])?.first?["uri"] as? String, "a")
    }

    func testInvalidDocumentsAreRefusedWholeWithTheLine() async throws {
        let server = try await TestServer(self)
        let body = [#"{"id": "ok", "text": "fine"}"#, #"{"id": "bad"}"#].joined(separator: "\n")
        let response = try await server.client.request("POST", "/v1/documents",
                                                       headers: auth.merging(["Content-Type": "application/jsonl"]) { $1 },
                                                       body: Data(body.utf8))
        XCTAssertEqual(response.status, 400)
        XCTAssertEqual(response.errorCode, "invalid_document")
        XCTAssertTrue(response.errorMessage?.contains("line 2") ?? false, response.text)
        XCTAssertTrue(response.errorMessage?.contains("text") ?? false, response.text)
        let search = try await server.client.json("POST", "/v1/search", ["query": "fine", "mode": "lexical"])
        XCTAssertEqual((search.json["results"] as? [Any])?.count, 0, "nothing of a refused upload was stored")

        for (body, code) in [(#"{"id": 1.5, "text": "x"}"#, "invalid_document"), (#"{"id": "x", "text": 3}"#, "invalid_document"),
                             (#"["not", "an object"]"#, "invalid_document"), (#"{"id": "x", "text": "#, "invalid_document")] {
            let response = try await server.client.request("POST", "/v1/documents", headers: auth, body: Data(body.utf8))
            XCTAssertEqual(response.status, 400, body)
            XCTAssertEqual(response.errorCode, code, body)
        }
        let duplicate = [#"{"id": "d", "text": "one"}"#, #"{"id": "d", "text": "two"}"#].joined(separator: "\n")
        let dup = try await server.client.request("POST", "/v1/documents",
                                                  headers: auth.merging(["Content-Type": "application/x-ndjson"]) { $1 },
                                                  body: Data(duplicate.utf8))
        XCTAssertEqual(dup.errorCode, "duplicate_id")
    }

    func testSearchKeepsAnsweringWhileDocumentsAreWritten() async throws {
        let server = try await TestServer(self)
        let client = server.client
        let auth = self.auth
        try await withThrowingTaskGroup(of: [Int].self) { group in
            group.addTask {
                var statuses: [Int] = []
                for n in 0..<12 {
                    let lines = (0..<20).map { i in
                        #"{"id": "bulk-\#(n)-\#(i)", "text": "Bulk note \#(n) \#(i) about tide gauges and harbour depth."}"#
                    }.joined(separator: "\n")
                    let response = try await client.request("POST", "/v1/documents",
                                                            headers: auth.merging(["Content-Type": "application/x-ndjson"]) { $1 },
                                                            body: Data(lines.utf8))
                    statuses.append(response.status)
                }
                return statuses
            }
            for _ in 0..<4 {
                group.addTask {
                    var statuses: [Int] = []
                    for _ in 0..<15 {
                        let response = try await client.json("POST", "/v1/search", ["query": "log rotation gzip", "top_k": 3])
                        statuses.append(response.status)
                        if response.status == 200 {
                            let top = (response.json["results"] as? [[String: Any]])?.first?["title"] as? String
                            if top != "Log rotation" { statuses.append(-1) }
                        }
                    }
                    return statuses
                }
            }
            for try await statuses in group {
                XCTAssertFalse(statuses.isEmpty)
                XCTAssertTrue(statuses.allSatisfy { $0 == 200 || $0 == 201 }, "\(statuses)")
            }
        }
        let count = try await client.json("POST", "/v1/search", ["query": "harbour depth tide gauges", "mode": "lexical", "top_k": 100])
        XCTAssertEqual((count.json["results"] as? [Any])?.count, 100)
        let metrics = try PrometheusTextParser.parse(try await client.request("GET", "/metrics").text)
        XCTAssertEqual(metrics.samples("kb_documents").first?.value, 3 + 240)
    }

    /// JSON Lines are cut into lines as the body arrives; only the current line is buffered, so a
    /// body of blank lines costs no memory (31 MiB of them took the server from 815 to 1,913 MB).
    func testJSONLinesUploadsBufferOnlyTheCurrentLine() throws {
        var lines = DocumentUpload.Lines()
        let blanks = [UInt8](repeating: 0x0A, count: 64 << 10)
        for _ in 0..<(31 << 4) {   // 31 MiB of blank lines
            try blanks.withUnsafeBytes { try lines.append($0) }
            XCTAssertEqual(lines.pending.capacity, 0, "a blank line is never buffered")
        }
        let record = Array(#"  {"id": "late", "text": "After the blank lines."}"#.utf8)
        try record[..<20].withUnsafeBytes { try lines.append($0) }   // a record split across two arrivals
        try record[20...].withUnsafeBytes { try lines.append($0) }
        XCTAssertEqual(lines.lineNumber, (31 << 20) + 1)
        let records = try lines.finish()
        XCTAssertEqual(records.map(\.id), ["late"])
        XCTAssertLessThan(lines.pending.capacity, 4096)

        var bad = DocumentUpload.Lines()
        let body = Array("{\"id\": \"a\", \"text\": \"A.\"}\n\n   \n{\"id\": 7}\n".utf8)
        XCTAssertThrowsError(try body.withUnsafeBytes { try bad.append($0) }) { error in
            XCTAssertEqual((error as? APIError)?.code, "invalid_document")
            XCTAssertTrue((error as? APIError)?.message.hasPrefix("line 4:") ?? false, "\(error)")
        }
    }

    func testAJSONLinesBodyOfMostlyBlankLinesIsAccepted() async throws {
        let server = try await TestServer(self)
        var body = Data(repeating: 0x0A, count: 4 << 20)
        body.append(Data(#"{"id": "blanks", "text": "A record after four mebibytes of blank lines."}"#.utf8))
        body.append(Data(repeating: 0x0A, count: 1 << 20))
        var headers = auth
        headers["Content-Type"] = "application/x-ndjson"
        let response = try await server.client.request("POST", "/v1/documents", headers: headers, body: body)
        XCTAssertEqual(response.status, 201, response.text)
        XCTAssertEqual(response.json["added"] as? Int, 1)
        let empty = try await server.client.request("POST", "/v1/documents", headers: headers, body: Data(repeating: 0x0A, count: 1000))
        XCTAssertEqual(empty.status, 400)
        XCTAssertEqual(empty.errorCode, "empty_body")
    }
}
