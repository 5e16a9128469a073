import Foundation
import KBTestSupport
import XCTest

/// The PDF and Office documents made by scripts/fixtures/make-documents.sh (cached outside the checkout,
/// keyed by the script's hash), and the source text they were made from (expected.json).
enum DocumentFixtures {
    private static let made: Result<URL, any Error> = Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [TestSupport.repositoryRoot.appendingPathComponent("scripts/fixtures/make-documents.sh").path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let path = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        guard process.terminationStatus == 0, !path.isEmpty else {
            throw FixtureError(message: "scripts/fixtures/make-documents.sh failed (exit \(process.terminationStatus))")
        }
        return URL(fileURLWithPath: path, isDirectory: true)
    }

    struct FixtureError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    static func directory() throws -> URL { try made.get() }

    static func path(_ name: String) throws -> String { try directory().appendingPathComponent(name).path }

    /// expected.json's entry for `name`.
    static func expected(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: directory().appendingPathComponent("expected.json"))
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try XCTUnwrap(root[name] as? [String: Any], "expected.json has no \(name)")
    }

    /// Runs of whitespace as one space, ends trimmed: layout may move line breaks, not words.
    static func squeezed(_ text: String) -> String {
        text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }
}
