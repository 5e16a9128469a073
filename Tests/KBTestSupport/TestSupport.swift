import Foundation
import KBEmbedding
import XCTest

/// Helpers shared by kb's test targets.
public enum TestSupport {
    /// The repository root (this file is Tests/KBTestSupport/TestSupport.swift).
    public static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `$KB_MODELS_DIR`, else `models/` at the repository root.
    public static var modelsDirectory: URL {
        if let override = ProcessInfo.processInfo.environment["KB_MODELS_DIR"], !override.isEmpty {
            return URL(fileURLWithPath: override, isDirectory: true)
        }
        return repositoryRoot.appendingPathComponent("models", isDirectory: true)
    }

    /// The path of a model under ``modelsDirectory`` (a file or a folder). Every test target follows
    /// one policy: a missing model is a failure naming the path and the command that fetches it,
    /// never a skip (`scripts/test.sh`, the README's test command, fetches every test model first).
    public static func modelPath(_ relativePath: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let path = modelsDirectory.appendingPathComponent(relativePath).path
        guard FileManager.default.fileExists(atPath: path) else {
            let error = MissingModel(path: path)
            XCTFail("\(error)", file: file, line: line)
            throw error
        }
        return path
    }

    private static let tokenizer: Result<WordPieceTokenizer, any Error> = Result {
        let vocabulary = modelsDirectory.appendingPathComponent("all-minilm-l6-v2/vocab.txt")
        guard FileManager.default.fileExists(atPath: vocabulary.path) else {
            throw MissingModel(path: vocabulary.path)
        }
        return try WordPieceTokenizer(vocabularyFile: vocabulary)
    }

    /// The all-MiniLM-L6-v2 tokenizer; a missing model is a test failure, not a skip.
    public static func loadTokenizer(file: StaticString = #filePath, line: UInt = #line) throws -> WordPieceTokenizer {
        do {
            return try tokenizer.get()
        } catch {
            XCTFail("\(error)", file: file, line: line)
            throw error
        }
    }

    /// A fresh empty directory, removed when the test ends.
    public static func temporaryDirectory(_ testCase: XCTestCase) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("kb-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        testCase.addTeardownBlock {
            // Make everything removable again (tests chmod some entries to 000).
            if let enumerator = FileManager.default.enumerator(atPath: url.path) {
                for case let path as String in enumerator {
                    chmod(url.appendingPathComponent(path).path, 0o755)
                }
            }
            try? FileManager.default.removeItem(at: url)
        }
        return url
    }

    /// Writes `text` to `directory/name`, creating folders; returns the file URL.
    @discardableResult
    public static func write(_ text: String, to name: String, in directory: URL) throws -> URL {
        try write(Data(text.utf8), to: name, in: directory)
    }

    @discardableResult
    public static func write(_ data: Data, to name: String, in directory: URL) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
        return url
    }

    /// Deterministic English-like prose: `sentences` sentences drawn from a fixed vocabulary by `seed`.
    public static func prose(seed: UInt64, sentences: Int) -> String {
        let words = ["archive", "backup", "cluster", "database", "encoder", "failover", "gateway", "histogram",
                     "index", "journal", "kernel", "latency", "mirror", "network", "operator", "partition",
                     "query", "replica", "schema", "throughput", "upgrade", "vector", "worker", "the", "a",
                     "of", "with", "runs", "stores", "checks", "reads", "writes", "every", "node", "quickly"]
        var state = seed &* 6364136223846793005 &+ 1442695040888963407
        func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(truncatingIfNeeded: (state >> 33) % UInt64(words.count))
        }
        var out: [String] = []
        for _ in 0..<sentences {
            let length = 6 + next() % 10
            var sentence = (0..<length).map { _ in words[next()] }.joined(separator: " ")
            sentence = sentence.prefix(1).uppercased() + sentence.dropFirst() + "."
            out.append(sentence)
        }
        return out.joined(separator: " ")
    }
}

/// The embedding model files are not where the tests look for them.
public struct MissingModel: Error, CustomStringConvertible {
    public let path: String
    public var description: String {
        "model not found at \(path): run scripts/fetch-models.sh (or scripts/test.sh, which fetches every test model), "
            + "or point KB_MODELS_DIR at the models folder"
    }
}
