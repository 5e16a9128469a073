import ArgumentParser
import Foundation
import KBEmbedding
import KBIngest
import KBServer
import KBStore

/// `--db`, shared by every command that opens a knowledge base.
struct DatabaseOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The knowledge-base file.", valueName: "file"))
    var db: String = ProcessInfo.processInfo.environment["KB_DB"] ?? "kb.sqlite"

    func open(_ mode: KBDatabase.Mode) throws -> KBDatabase {
        do {
            return try KBDatabase(path: db, mode: mode)
        } catch let error as StoreError {
            throw CLIError(error.description)
        }
    }
}

/// Where model files live: `--models`, else `$KB_MODELS_DIR`, else `./models`.
struct ModelsOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Folder of downloaded models (default: $KB_MODELS_DIR, else ./models).",
                                            valueName: "dir"))
    var models: String?

    var directory: URL {
        URL(fileURLWithPath: models ?? ProcessInfo.processInfo.environment["KB_MODELS_DIR"] ?? "models",
            isDirectory: true)
    }

    /// An embedding model by name (see `EmbedderCatalog`).
    func loadEmbedder(_ name: String) throws -> any Embedder {
        do {
            return try EmbedderCatalog.load(name, modelsDirectory: directory)
        } catch {
            throw CLIError("\(error)")
        }
    }

    /// The name of the base's active embedding model, if it has one.
    static func activeModelName(_ store: KBDatabase) throws -> String? {
        try store.activeEmbeddingModel()?.name
    }

    /// What measures chunks for `embedder`: its own tokenizer, else (no model, or one kb cannot
    /// count for) the default model's WordPiece tokenizer.
    func tokenCounter(for embedder: (any Embedder)?) throws -> any TokenCounting {
        if let embedder, let counter = TokenCounters.counter(for: embedder) { return counter }
        return try loadTokenizer()
    }

    /// The knowledge base over `store` as `kb serve` and `kb ask` use it: queries embedded with the
    /// model named `embedder` (none: lexical search only), posted documents chunked for it.
    func knowledgeBase(_ store: KBDatabase, embedder name: String?) throws -> KnowledgeBase {
        let embedder = try name.map { try loadEmbedder($0) }
        do {
            return try KnowledgeBase(store: store, embedder: embedder, chunker: try chunker(ChunkingOptions(), for: embedder))
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError("\(error)")
        }
    }

    /// A chunker for `embedder`'s tokenizer, its options checked against that model's input limit.
    func chunker(_ options: ChunkingOptions, for embedder: (any Embedder)?) throws -> Chunker {
        let counter = try tokenCounter(for: embedder)
        if let problem = options.validationError(limit: counter.chunkTokenLimit) {
            throw CLIError("\(problem) for \(embedder?.name ?? EmbedderCatalog.defaultName)")
        }
        return Chunker(options: options, counter: counter)
    }

    /// The default embedding model's tokenizer, which measures chunks.
    func loadTokenizer() throws -> WordPieceTokenizer {
        let vocabulary = directory.appendingPathComponent("all-minilm-l6-v2/vocab.txt")
        guard FileManager.default.fileExists(atPath: vocabulary.path) else {
            throw CLIError("embedding model not found: \(vocabulary.path) is missing (run scripts/setup.sh, "
                           + "or point --models / KB_MODELS_DIR at the models folder)")
        }
        do {
            return try WordPieceTokenizer(vocabularyFile: vocabulary)
        } catch {
            throw CLIError("\(error)")
        }
    }
}

/// A failure reported as `kb: error: …` with exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Writes to standard error.
enum StandardError {
    static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    static var isTerminal: Bool { isatty(2) == 1 }
}

/// Prints an Encodable value as JSON on standard output.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let data = try encoder.encode(value)
    FileHandle.standardOutput.write(data)
    FileHandle.standardOutput.write(Data("\n".utf8))
}

