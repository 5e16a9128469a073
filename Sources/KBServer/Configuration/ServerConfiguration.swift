import Foundation
import KBSupport

/// A setting that cannot be used, named with the reason.
public struct ServerConfigurationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Everything `kb serve` can be told. Each field can come from a command-line option, an
/// environment variable or a JSON config file, in that order of precedence (see
/// ``ServerConfiguration/merged(file:environment:)``).
public struct ServerConfiguration: Sendable, Equatable {
    /// The knowledge-base file (`--db`, `KB_DB`, `"db"`).
    public var database: String = "kb.sqlite"
    /// A GGUF chat model for answers (`--model`, `KB_MODEL`, `"model"`); nil serves search only.
    public var model: String?
    /// The address to listen on (`--host`, `KB_HOST`, `"host"`): loopback unless told otherwise.
    public var host: String = "127.0.0.1"
    /// `--port`, `KB_PORT`, `"port"`; 0 picks a free port.
    public var port: Int = 8080
    /// Accepted API keys (`KB_API_KEYS` comma-separated, or `--api-keys-file`, `KB_API_KEYS_FILE`, `"api_keys_file"`).
    public var apiKeys: [String] = []
    /// Whether searches and answers need a key too (`--reads-require-key`, `KB_READS_REQUIRE_KEY`).
    public var readsRequireKey = false
    /// Accept writes without a key (`--anonymous-writes`, `KB_ANONYMOUS_WRITES`): for local experiments only.
    public var anonymousWrites = false
    /// Largest request body for JSON endpoints, in bytes (`--max-body`, `KB_MAX_BODY`, `"max_body"`).
    public var maxBodyBytes = 1 << 20
    /// Largest body of `POST /v1/documents` (`--max-upload`, `KB_MAX_UPLOAD`, `"max_upload"`).
    public var maxUploadBytes = 32 << 20
    /// Seconds to receive a request body before answering 408 (`KB_BODY_TIMEOUT`, `"body_timeout"`).
    public var bodyTimeout: Double = 30
    /// Seconds a request may take before it is answered 503 (`--request-timeout`, `KB_REQUEST_TIMEOUT`).
    /// Streaming answers are bounded by their token limit instead, once their first byte is sent.
    public var requestTimeout: Double = 120
    /// Seconds an idle keep-alive connection is kept (`KB_IDLE_TIMEOUT`, `"idle_timeout"`).
    public var idleTimeout: Double = 60
    /// Answers generated at the same time (`--max-generations`, `KB_MAX_GENERATIONS`).
    public var maxConcurrentGenerations = 1
    /// Answers waiting for a slot; more are refused with 429 (`--generation-queue`, `KB_GENERATION_QUEUE`).
    public var maxQueuedGenerations = 8
    /// Chunks given to the model as context (`"context_chunks"`, `KB_CONTEXT_CHUNKS`).
    public var contextChunks = 5
    /// Default answer length in tokens (`"max_answer_tokens"`, `KB_MAX_ANSWER_TOKENS`).
    public var maxAnswerTokens = 512

    public init() {}

    /// Applies a JSON config file and then environment variables over `self` (the defaults).
    /// Command-line options are applied by the caller afterwards.
    /// - Throws: ``ServerConfigurationError`` naming the file, variable or key and why it is wrong.
    public func merged(file: String?, environment: [String: String]) throws -> ServerConfiguration {
        var config = self
        if let file { try config.apply(configFile: file) }
        try config.apply(environment: environment)
        return config
    }

    mutating func apply(configFile path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ServerConfigurationError("cannot read the config file \(path)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data), let fields = object as? [String: Any] else {
            throw ServerConfigurationError("\(path): expected a JSON object of settings")
        }
        let known: Set = ["db", "model", "host", "port", "api_keys_file", "reads_require_key", "anonymous_writes",
                          "max_body", "max_upload", "body_timeout", "request_timeout", "idle_timeout", "max_generations",
                          "generation_queue", "context_chunks", "max_answer_tokens"]
        if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) {
            throw ServerConfigurationError("\(path): unknown setting \"\(unknown)\" (known: \(known.sorted().joined(separator: ", ")))")
        }
        for (key, value) in fields {
            // Strings as they are; numbers and booleans as their JSON text ("8080", "true").
            let text = (value as? String) ?? (try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed]))
                .map { String(decoding: $0, as: UTF8.self) } ?? ""
            try set(key, text, source: "\(path): \"\(key)\"")
        }
    }

    mutating func apply(environment: [String: String]) throws {
        let names: [(String, String)] = [
            ("KB_DB", "db"), ("KB_MODEL", "model"), ("KB_HOST", "host"), ("KB_PORT", "port"),
            ("KB_API_KEYS_FILE", "api_keys_file"), ("KB_READS_REQUIRE_KEY", "reads_require_key"),
            ("KB_ANONYMOUS_WRITES", "anonymous_writes"), ("KB_MAX_BODY", "max_body"), ("KB_MAX_UPLOAD", "max_upload"),
            ("KB_BODY_TIMEOUT", "body_timeout"), ("KB_REQUEST_TIMEOUT", "request_timeout"),
            ("KB_IDLE_TIMEOUT", "idle_timeout"), ("KB_MAX_GENERATIONS", "max_generations"),
            ("KB_GENERATION_QUEUE", "generation_queue"), ("KB_CONTEXT_CHUNKS", "context_chunks"),
            ("KB_MAX_ANSWER_TOKENS", "max_answer_tokens"),
        ]
        for (variable, key) in names {
            if let value = environment[variable], !value.isEmpty { try set(key, value, source: variable) }
        }
        if let list = environment["KB_API_KEYS"] { apiKeys += APIKeys.parse(list: list) }
    }

    /// Sets one field from its text form.
    public mutating func set(_ key: String, _ text: String, source: String) throws {
        func int(_ range: ClosedRange<Int>) throws -> Int {
            guard let value = Int(text), range.contains(value) else {
                throw ServerConfigurationError("\(source): expected an integer in \(range.lowerBound)…\(range.upperBound), got \"\(text)\"")
            }
            return value
        }
        func seconds() throws -> Double {
            guard let value = Double(text), value > 0, value.isFinite else {
                throw ServerConfigurationError("\(source): expected a positive number of seconds, got \"\(text)\"")
            }
            return value
        }
        func bool() throws -> Bool {
            switch text.lowercased() {
            case "1", "true", "yes", "on": return true
            case "0", "false", "no", "off": return false
            default: throw ServerConfigurationError("\(source): expected true or false, got \"\(text)\"")
            }
        }
        func bytes() throws -> Int {
            guard let value = ByteSize.parse(text), value > 0 else {
                throw ServerConfigurationError("\(source): expected a size such as 1M, 1MB or 65536, got \"\(text)\"")
            }
            return value
        }
        switch key {
        case "db": database = text
        case "model": model = text
        case "host": host = text
        case "port": port = try int(0...65535)
        case "api_keys_file": apiKeys += try APIKeys.load(file: text)
        case "reads_require_key": readsRequireKey = try bool()
        case "anonymous_writes": anonymousWrites = try bool()
        case "max_body": maxBodyBytes = try bytes()
        case "max_upload": maxUploadBytes = try bytes()
        case "body_timeout": bodyTimeout = try seconds()
        case "request_timeout": requestTimeout = try seconds()
        case "idle_timeout": idleTimeout = try seconds()
        case "max_generations": maxConcurrentGenerations = try int(1...256)
        case "generation_queue": maxQueuedGenerations = try int(0...10_000)
        case "context_chunks": contextChunks = try int(1...20)
        case "max_answer_tokens": maxAnswerTokens = try int(1...8192)
        default: throw ServerConfigurationError("\(source): unknown setting")
        }
    }
}
