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
    /// Answers generated together, in the same forward passes of the batching engine
    /// (`--max-generations`, `KB_MAX_GENERATIONS`).
    public var maxConcurrentGenerations = 16
    /// Answers waiting for a slot; more are refused with 429 (`--generation-queue`, `KB_GENERATION_QUEUE`).
    public var maxQueuedGenerations = 64
    /// The KV pool's byte budget: every running answer's keys and values and the cached prompt
    /// prefixes (`--kv-cache`, `KB_KV_CACHE`, `"kv_cache"`; nil: room for 16 sequences of 2,048 tokens).
    public var kvCacheBytes: Int?
    /// Tokens per forward pass of the batching engine while answers are being generated: one per
    /// generating answer, the rest chunks of new prompts (`--batch-tokens`, `KB_BATCH_TOKENS`,
    /// `"batch_tokens"`; default 64). It bounds the pause a new question puts between the tokens of
    /// streaming answers; larger prefills new questions faster. Passes with nothing generating
    /// take up to 256 (or this, if larger).
    public var batchTokens = 64
    /// Chunks given to the model as context (`"context_chunks"`, `KB_CONTEXT_CHUNKS`).
    public var contextChunks = 5
    /// Default answer length in tokens (`"max_answer_tokens"`, `KB_MAX_ANSWER_TOKENS`).
    public var maxAnswerTokens = 512

    public init() {}

    /// Every setting, by the one name it goes by everywhere: its key in the config file, its
    /// environment variable (`KB_` and the key in capitals) and its command-line option (`--` and
    /// the key with dashes). ``set(_:_:source:)`` parses each (the compiler checks it handles all).
    public enum Setting: String, CaseIterable, Sendable {
        case db, model, host, port
        case apiKeysFile = "api_keys_file", readsRequireKey = "reads_require_key", anonymousWrites = "anonymous_writes"
        case maxBody = "max_body", maxUpload = "max_upload"
        case bodyTimeout = "body_timeout", requestTimeout = "request_timeout", idleTimeout = "idle_timeout"
        case maxGenerations = "max_generations", generationQueue = "generation_queue"
        case kvCache = "kv_cache", batchTokens = "batch_tokens"
        case contextChunks = "context_chunks", maxAnswerTokens = "max_answer_tokens"

        /// The environment variable, e.g. `KB_MAX_BODY`.
        public var environmentVariable: String { "KB_" + rawValue.uppercased() }
        /// The command-line option, e.g. `--max-body`.
        public var option: String { "--" + rawValue.replacingOccurrences(of: "_", with: "-") }
    }

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
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
            guard let setting = Setting(rawValue: key) else {
                let known = Setting.allCases.map(\.rawValue).sorted().joined(separator: ", ")
                throw ServerConfigurationError("\(path): unknown setting \"\(key)\" (known: \(known))")
            }
            // Strings as they are; numbers and booleans as their JSON text ("8080", "true").
            let text = (value as? String) ?? (try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed]))
                .map { String(decoding: $0, as: UTF8.self) } ?? ""
            try set(setting, text, source: "\(path): \"\(key)\"")
        }
    }

    mutating func apply(environment: [String: String]) throws {
        for setting in Setting.allCases {
            let variable = setting.environmentVariable
            if let value = environment[variable], !value.isEmpty { try set(setting, value, source: variable) }
        }
        if let list = environment["KB_API_KEYS"] { apiKeys += APIKeys.parse(list: list) }
    }

    /// Sets one field from its text form.
    /// - Parameter source: where the text came from (an option, a variable, a file and key), for errors.
    public mutating func set(_ setting: Setting, _ text: String, source: String) throws {
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
        switch setting {
        case .db: database = text
        case .model: model = text
        case .host: host = text
        case .port: port = try int(0...65535)
        case .apiKeysFile: apiKeys += try APIKeys.load(file: text)
        case .readsRequireKey: readsRequireKey = try bool()
        case .anonymousWrites: anonymousWrites = try bool()
        case .maxBody: maxBodyBytes = try bytes()
        case .maxUpload: maxUploadBytes = try bytes()
        case .bodyTimeout: bodyTimeout = try seconds()
        case .requestTimeout: requestTimeout = try seconds()
        case .idleTimeout: idleTimeout = try seconds()
        case .maxGenerations: maxConcurrentGenerations = try int(1...256)
        case .generationQueue: maxQueuedGenerations = try int(0...10_000)
        case .kvCache: kvCacheBytes = try bytes()
        case .batchTokens: batchTokens = try int(16...8192)
        case .contextChunks: contextChunks = try int(1...20)
        case .maxAnswerTokens: maxAnswerTokens = try int(1...8192)
        }
    }
}
