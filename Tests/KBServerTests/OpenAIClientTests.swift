import Foundation
import KBTestSupport
import XCTest

/// The official `openai` Python client against a running server: `scripts/openai_client_check.py`
/// in the virtual environment `.venv-openai` (created by scripts/test.sh with a pinned openai).
final class OpenAIClientTests: XCTestCase {
    func testOfficialClientListsModelsCompletesAndStreamsWithCitations() async throws {
        let python = TestSupport.repositoryRoot.appendingPathComponent(".venv-openai/bin/python")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            return XCTFail("\(python.path) is missing: run scripts/test.sh, or python3 -m venv .venv-openai && "
                           + ".venv-openai/bin/pip install openai==3.57.0")
        }
        let server = try await TestServer(self) { $0.readsRequireKey = true }
        let process = Process()
        process.executableURL = python
        process.arguments = [TestSupport.repositoryRoot.appendingPathComponent("scripts/openai_client_check.py").path,
                             "http://127.0.0.1:\(server.client.port)/v1", TestServer.apiKey, "How are old logs compressed?"]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let status: Int32 = await withCheckedContinuation { continuation in
            Thread {
                process.waitUntilExit()
                continuation.resume(returning: process.terminationStatus)
            }.start()
        }
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(status, 0, stderr)
        let summary = (try? JSONSerialization.jsonObject(with: Data(stdout.utf8))) as? [String: Any] ?? [:]
        XCTAssertEqual(summary["model"] as? String, "scripted-test-model", stdout)
        XCTAssertEqual((summary["titles"] as? [String])?.first, "Log rotation", stdout)
        XCTAssertGreaterThan(summary["chunks"] as? Int ?? 0, 3)
    }
}
