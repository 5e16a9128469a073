import Foundation
import KBSupport
@testable import KBServer
import KBTestSupport
import XCTest

final class ServerConfigurationTests: XCTestCase {
    func testDefaultsAreLoopbackAndSafe() {
        let configuration = ServerConfiguration()
        XCTAssertEqual(configuration.host, "127.0.0.1")
        XCTAssertEqual(configuration.port, 8080)
        XCTAssertFalse(configuration.anonymousWrites)
        XCTAssertTrue(configuration.apiKeys.isEmpty)
    }

    func testEnvironmentOverridesTheFileAndKeysComeFromBoth() throws {
        let directory = try TestSupport.temporaryDirectory(self)
        let keys = try TestSupport.write("# team keys\nfile-key-1\n\n  file-key-2  \n", to: "keys.txt", in: directory)
        let file = try TestSupport.write("""
            {"db": "from-file.sqlite", "port": 9000, "host": "0.0.0.0", "reads_require_key": true,
             "api_keys_file": "\(keys.path)", "max_body": "2M", "max_generations": 3, "kv_cache": "512M"}
            """, to: "serve.json", in: directory)
        let configuration = try ServerConfiguration().merged(file: file.path, environment: [
            "KB_PORT": "9100", "KB_API_KEYS": "env-key-1, env-key-2", "KB_GENERATION_QUEUE": "0", "UNRELATED": "x",
            "KB_BATCH_TOKENS": "512",
        ])
        XCTAssertEqual(configuration.kvCacheBytes, 512 << 20)
        XCTAssertEqual(configuration.batchTokens, 512)
        XCTAssertEqual(configuration.database, "from-file.sqlite")
        XCTAssertEqual(configuration.host, "0.0.0.0")
        XCTAssertEqual(configuration.port, 9100, "the environment wins over the file")
        XCTAssertTrue(configuration.readsRequireKey)
        XCTAssertEqual(configuration.maxBodyBytes, 2 << 20)
        XCTAssertEqual(configuration.maxConcurrentGenerations, 3)
        XCTAssertEqual(configuration.maxQueuedGenerations, 0)
        XCTAssertEqual(Set(configuration.apiKeys), ["file-key-1", "file-key-2", "env-key-1", "env-key-2"])
    }

    func testBadSettingsNameTheSourceAndReason() throws {
        let directory = try TestSupport.temporaryDirectory(self)
        let unknown = try TestSupport.write(#"{"prot": 80}"#, to: "a.json", in: directory)
        XCTAssertThrowsError(try ServerConfiguration().merged(file: unknown.path, environment: [:])) { error in
            XCTAssertTrue("\(error)".contains("unknown setting \"prot\""), "\(error)")
        }
        let notObject = try TestSupport.write("[1]", to: "b.json", in: directory)
        XCTAssertThrowsError(try ServerConfiguration().merged(file: notObject.path, environment: [:]))
        XCTAssertThrowsError(try ServerConfiguration().merged(file: directory.appendingPathComponent("missing.json").path, environment: [:]))
        for (variable, value) in [("KB_PORT", "70000"), ("KB_PORT", "http"), ("KB_MAX_BODY", "lots"), ("KB_REQUEST_TIMEOUT", "-1"),
                                  ("KB_BATCH_TOKENS", "4"), ("KB_KV_CACHE", "much"),
                                  ("KB_READS_REQUIRE_KEY", "maybe"), ("KB_MAX_GENERATIONS", "0")] {
            XCTAssertThrowsError(try ServerConfiguration().merged(file: nil, environment: [variable: value])) { error in
                XCTAssertTrue("\(error)".contains(variable), "\(error)")
            }
        }
        XCTAssertThrowsError(try ServerConfiguration().merged(file: nil, environment: ["KB_API_KEYS_FILE": "/nonexistent/keys"]))
    }

    /// One size parser for the whole program: `--max-body 1MB` failed while `--max-file-size 1MB`
    /// worked (two parsers that disagreed), and a size too large for an Int crashed instead of
    /// being refused.
    func testSizesReadTheSameEverywhere() throws {
        XCTAssertEqual(ByteSize.parse("1MB"), 1_000_000)
        XCTAssertEqual(ByteSize.parse("1M"), 1 << 20)
        XCTAssertEqual(ByteSize.parse("1MiB"), 1 << 20)
        XCTAssertEqual(ByteSize.parse("1.5g"), 3 << 29)
        XCTAssertEqual(ByteSize.parse(" 65536 "), 65536)
        XCTAssertEqual(ByteSize.parse("9223372036854775807"), Int.max)
        for bad in ["", "M", "-1M", "1e30G", "inf", "nan", "12 parsecs", "0x10"] {
            XCTAssertNil(ByteSize.parse(bad), bad)
        }
        var configuration = ServerConfiguration()
        try configuration.apply(environment: ["KB_MAX_BODY": "1MB", "KB_MAX_UPLOAD": "64MiB"])
        XCTAssertEqual(configuration.maxBodyBytes, 1_000_000)
        XCTAssertEqual(configuration.maxUploadBytes, 64 << 20)
        XCTAssertThrowsError(try configuration.set(.maxBody, "1e30G", source: "--max-body"))
    }

    /// Every setting goes by one name: its config key, its `KB_` variable and its option derive from it.
    func testEverySettingIsReadFromTheEnvironmentAndTheConfigFileByItsOneName() throws {
        XCTAssertEqual(ServerConfiguration.Setting.maxBody.environmentVariable, "KB_MAX_BODY")
        XCTAssertEqual(ServerConfiguration.Setting.apiKeysFile.option, "--api-keys-file")
        let keys = try TestSupport.write("k1\n", to: "keys.txt", in: try TestSupport.temporaryDirectory(self))
        let values: [ServerConfiguration.Setting: String] = [
            .db: "x.sqlite", .model: "m.gguf", .host: "0.0.0.0", .port: "9", .apiKeysFile: keys.path,
            .readsRequireKey: "true", .anonymousWrites: "yes", .maxBody: "2M", .maxUpload: "3M", .bodyTimeout: "4",
            .requestTimeout: "5", .idleTimeout: "6", .maxGenerations: "7", .generationQueue: "8", .contextChunks: "9",
            .maxAnswerTokens: "10", .kvCache: "11M", .batchTokens: "128",
        ]
        XCTAssertEqual(Set(values.keys), Set(ServerConfiguration.Setting.allCases), "every setting is exercised")
        let environment = Dictionary(uniqueKeysWithValues: values.map { ($0.key.environmentVariable, $0.value) })
        let fromEnvironment = try ServerConfiguration().merged(file: nil, environment: environment)
        let file = try TestSupport.write(
            String(decoding: try JSONSerialization.data(withJSONObject: Dictionary(uniqueKeysWithValues: values.map { ($0.key.rawValue, $0.value) })), as: UTF8.self),
            to: "settings.json", in: try TestSupport.temporaryDirectory(self))
        let fromFile = try ServerConfiguration().merged(file: file.path, environment: [:])
        XCTAssertEqual(fromEnvironment, fromFile)
        XCTAssertEqual(fromFile.database, "x.sqlite")
        XCTAssertEqual(fromFile.maxAnswerTokens, 10)
        XCTAssertEqual(fromFile.kvCacheBytes, 11 << 20)
        XCTAssertEqual(fromFile.batchTokens, 128)
        XCTAssertEqual(fromFile.apiKeys, ["k1"])
        XCTAssertNotEqual(fromFile, ServerConfiguration())
    }
}
