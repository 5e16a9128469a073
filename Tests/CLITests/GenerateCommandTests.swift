import Foundation
import KBTestSupport
import XCTest

/// `kb generate` and `kb bench generate` as users run them.
final class GenerateCommandTests: XCTestCase {
    static let smolLM = "smollm2-135m-instruct-q4_1.gguf"

    var smolLMPath: String { TestSupport.modelsDirectory.appendingPathComponent(Self.smolLM).path }

    func testAMissingModelFileIsNamed() throws {
        let missing = "/nonexistent/folder/model.gguf"
        let result = try CommandRunner.run(["generate", "--model", missing, "--raw", "--prompt", "Hi"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("model file not found: \(missing)"), result.stderr)
        XCTAssertEqual(result.stdout, "")
    }

    func testAFileThatIsNotGGUFIsRefusedWithItsName() throws {
        let directory = try TestSupport.temporaryDirectory(self)
        let notModel = try TestSupport.write("just some text, not a model", to: "notes.gguf", in: directory)
        let result = try CommandRunner.run(["generate", "--model", notModel.path, "--raw", "--prompt", "Hi"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("cannot load model"), result.stderr)
        XCTAssertTrue(result.stderr.contains(notModel.path), result.stderr)
        XCTAssertEqual(result.stdout, "")

        let bench = try CommandRunner.run(["bench", "generate", "--model", notModel.path])
        XCTAssertNotEqual(bench.status, 0)
        XCTAssertTrue(bench.stderr.contains(notModel.path), bench.stderr)
    }

    func testBadOptionsAreRejectedBeforeLoading() throws {
        let temperature = try CommandRunner.run(["generate", "--model", smolLMPath, "--prompt", "Hi", "--temperature", "-1"])
        XCTAssertNotEqual(temperature.status, 0)
        XCTAssertTrue(temperature.stderr.contains("temperature"), temperature.stderr)
        let topP = try CommandRunner.run(["generate", "--model", smolLMPath, "--prompt", "Hi", "--top-p", "1.5"])
        XCTAssertTrue(topP.stderr.contains("top-p"), topP.stderr)
        let system = try CommandRunner.run(["generate", "--model", smolLMPath, "--raw", "--system", "x", "--prompt", "Hi"])
        XCTAssertNotEqual(system.status, 0)
        XCTAssertTrue(system.stderr.contains("--system needs --chat"), system.stderr)
        let template = try CommandRunner.run(["generate", "--model", smolLMPath, "--chat-template", "llama9", "--prompt", "Hi"])
        XCTAssertTrue(template.stderr.contains("unknown --chat-template llama9"), template.stderr)
    }
}
