import ArgumentParser
import COpenBLAS
import Foundation
import KBEmbedding
import KBIngest
import KBLLM
import KBServer
import KBStore
import Logging

/// `kb serve`: the HTTP knowledge service.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the knowledge base over HTTP (search, documents, cited answers, OpenAI-compatible chat).",
        discussion: """
            Endpoints: POST /v1/search, POST /v1/documents, GET|DELETE /v1/documents/{id}, POST /v1/ask,
            POST /v1/chat/completions, GET /v1/models, GET /healthz, GET /readyz, GET /metrics
            (described in schemas/openapi.yaml).

            Settings come from options, else environment variables (KB_DB, KB_MODEL, KB_HOST, KB_PORT,
            KB_API_KEYS, KB_API_KEYS_FILE, KB_READS_REQUIRE_KEY, KB_MAX_BODY, KB_REQUEST_TIMEOUT,
            KB_MAX_GENERATIONS, KB_GENERATION_QUEUE, …), else a JSON file given with --config, else
            defaults. The server listens on 127.0.0.1 unless --host says otherwise. Writes need an API
            key; reads need one with --reads-require-key. SIGINT/SIGTERM stop it gracefully.
            """)

    @OptionGroup var modelsOption: ModelsOption

    @Option(name: .long, help: ArgumentHelp("The knowledge-base file (default: $KB_DB, else kb.sqlite).", valueName: "file"))
    var db: String?

    @Option(name: .long, help: ArgumentHelp("A GGUF chat model for answers (without one, only search is served).", valueName: "gguf"))
    var model: String?

    @Option(name: .long, help: ArgumentHelp("Address to listen on (default 127.0.0.1).", valueName: "address"))
    var host: String?

    @Option(name: .long, help: ArgumentHelp("Port (default 8080; 0 picks a free one).", valueName: "n"))
    var port: Int?

    @Option(name: .long, help: ArgumentHelp("A JSON file of settings (keys: db, model, host, port, api_keys_file, …).", valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("A file of API keys, one per line.", valueName: "file"))
    var apiKeysFile: String?

    @Flag(name: .long, help: "Require an API key for searches and answers too.")
    var readsRequireKey = false

    @Flag(name: .long, help: "Accept document writes without an API key (local experiments only).")
    var anonymousWrites = false

    @Option(name: .long, help: ArgumentHelp("Largest JSON request body (default 1M).", valueName: "size"))
    var maxBody: String?

    @Option(name: .long, help: ArgumentHelp("Largest POST /v1/documents body (default 32M).", valueName: "size"))
    var maxUpload: String?

    @Option(name: .long, help: ArgumentHelp("Seconds before a request is answered 503 (default 120).", valueName: "s"))
    var requestTimeout: Double?

    @Option(name: .long, help: ArgumentHelp("Answers generated together, in the same forward passes (default 16).", valueName: "n"))
    var maxGenerations: Int?

    @Option(name: .long, help: ArgumentHelp("Answers that may wait for a slot; more get 429 (default 64).", valueName: "n"))
    var generationQueue: Int?

    @Option(name: .long, help: ArgumentHelp("KV cache budget: running answers and cached prompt prefixes (default: 16 × 2,048 tokens' worth, at least 256M).", valueName: "size"))
    var kvCache: String?

    @Option(name: .long, help: ArgumentHelp("Tokens per forward pass while answers stream: one per answer, the rest new prompts (default 64).", valueName: "n"))
    var batchTokens: Int?

    @Option(name: .long, help: ArgumentHelp("Embedding model for new documents and queries (default: the base's, else \(EmbedderCatalog.defaultName)).", valueName: "name"))
    var embedder: String?

    @Flag(name: .long, help: "Load no embedding model: lexical search only, posted documents get no vectors.")
    var noEmbed = false

    @Option(name: .long, help: ArgumentHelp("Threads for the answer model's matrix products (default: every core).", valueName: "n"))
    var threads: Int?

    func run() async throws {
        var settings: ServerConfiguration
        do {
            settings = try ServerConfiguration().merged(file: config, environment: ProcessInfo.processInfo.environment)
            let options: [(ServerConfiguration.Setting, String?)] = [
                (.db, db), (.model, model), (.host, host), (.port, port.map(String.init)),
                (.apiKeysFile, apiKeysFile), (.maxBody, maxBody), (.maxUpload, maxUpload),
                (.requestTimeout, requestTimeout.map { String($0) }), (.maxGenerations, maxGenerations.map(String.init)),
                (.generationQueue, generationQueue.map(String.init)), (.kvCache, kvCache),
                (.batchTokens, batchTokens.map(String.init)),
            ]
            for (setting, value) in options {
                if let value { try settings.set(setting, value, source: setting.option) }
            }
            if readsRequireKey { settings.readsRequireKey = true }
            if anonymousWrites { settings.anonymousWrites = true }
        } catch let error as ServerConfigurationError {
            throw CLIError(error.description)
        }

        var logger = Logger(label: "kb.serve")
        logger.logLevel = ProcessInfo.processInfo.environment["KB_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info

        let store: KBDatabase
        do {
            store = try KBDatabase(path: settings.database, mode: .readWrite)
        } catch let error as StoreError {
            throw CLIError(error.description)
        }
        // Requests are the unit of parallelism: OpenBLAS threads of its own per query embedding would
        // spin (sched_yield) against the other requests' threads. Measured with bench/serve-search.sh
        // (100k base, 50 clients, hybrid): 26.4 req/s single-threaded vs 18.8 with OpenBLAS's default.
        openblas_set_num_threads(1)
        let name = noEmbed ? nil : try embedder ?? ModelsOption.activeModelName(store) ?? EmbedderCatalog.defaultName
        let knowledge = try modelsOption.knowledgeBase(store, embedder: name)
        let checkTime = String(format: "%.2f s", knowledge.integrityCheckSeconds)
        logger.info("database \(settings.database) passed PRAGMA quick_check in \(checkTime)")
        let generator = try AnswerModelLoader.load(settings.model, models: modelsOption, threads: threads,
                                                   batching: .init(maxRunning: settings.maxConcurrentGenerations,
                                                                   tokenBudget: max(256, settings.batchTokens),
                                                                   generatingTokenBudget: settings.batchTokens),
                                                   kvCacheBytes: settings.kvCacheBytes)
        let server = APIServer(configuration: settings, knowledge: knowledge, generator: generator, logger: logger)
        let host = settings.host, database = settings.database, log = logger
        try await server.run { port in
            let vectors = knowledge.engine.index?.count ?? 0
            log.notice("kb serve listening on http://\(host):\(port) (database \(database), \(vectors) vectors, model \(generator?.modelID ?? "none"))")
        }
    }
}

/// Loads the answer model named by `--model` (a path, or a file name in the models folder).
enum AnswerModelLoader {
    static func load(_ name: String?, models: ModelsOption, threads: Int?,
                     batching: BatchEngine.Settings = .init(), kvCacheBytes: Int? = nil) throws -> (any AnswerGenerator)? {
        guard let name else { return nil }
        var path = name
        if !FileManager.default.fileExists(atPath: path), !name.contains("/") {
            path = models.directory.appendingPathComponent(name).path
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw CLIError("--model: \(name) does not exist (nor in \(models.directory.path))")
        }
        do {
            KernelSet.warnAboutOverride()
            return try LocalModelGenerator(path: path, threads: threads, batching: batching, kvCacheBytes: kvCacheBytes)
        } catch {
            throw CLIError("--model \(path): \(error)")
        }
    }
}
