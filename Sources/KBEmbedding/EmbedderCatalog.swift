import Foundation

/// The embedding models kb knows by name, and where each lives under the models folder.
/// Adding a model means adding an entry here; callers only see ``Embedder``.
public enum EmbedderCatalog {
    /// A known model.
    public struct Entry: Sendable {
        public let name: String
        /// Folder under the models directory (as written by scripts/fetch-models.sh).
        public let folder: String
        /// The `scripts/fetch-models.sh` argument that downloads it.
        public let fetchName: String
        let load: @Sendable (URL, EncoderOptions) throws -> any Embedder
    }

    /// The default model of new knowledge bases.
    public static let defaultName = "all-minilm-l6-v2"

    public static let entries: [Entry] = [
        Entry(name: "all-minilm-l6-v2", folder: "all-minilm-l6-v2", fetchName: "minilm") { folder, options in
            try MiniLMEmbedder(directory: folder, options: options)
        },
        Entry(name: "multilingual-e5-small", folder: "multilingual-e5-small", fetchName: "multilingual-e5") { folder, options in
            try MultilingualE5Embedder(directory: folder, options: options)
        },
    ]

    public static var names: [String] { entries.map(\.name) }

    /// Loads `name` from `modelsDirectory`, with `options` for batching and threads.
    /// - Throws: ``EmbedderCatalogError`` for an unknown name or a model that was not downloaded;
    ///   the model's own errors for a damaged one.
    public static func load(_ name: String, modelsDirectory: URL, options: EncoderOptions = EncoderOptions()) throws -> any Embedder {
        guard let entry = entries.first(where: { $0.name == name }) else {
            throw EmbedderCatalogError.unknown(name: name, known: names)
        }
        let folder = modelsDirectory.appendingPathComponent(entry.folder, isDirectory: true)
        guard FileManager.default.fileExists(atPath: folder.path) else {
            throw EmbedderCatalogError.notDownloaded(name: name, folder: folder.path, fetchName: entry.fetchName)
        }
        return try entry.load(folder, options)
    }
}

/// Errors finding an embedding model.
public enum EmbedderCatalogError: Error, CustomStringConvertible, Equatable {
    case unknown(name: String, known: [String])
    case notDownloaded(name: String, folder: String, fetchName: String)

    public var description: String {
        switch self {
        case .unknown(let name, let known):
            return "unknown embedding model '\(name)' (known: \(known.joined(separator: ", ")))"
        case .notDownloaded(let name, let folder, let fetchName):
            return "embedding model \(name) not found at \(folder): run `scripts/fetch-models.sh \(fetchName)` "
                + "(or point --models / KB_MODELS_DIR at the models folder)"
        }
    }
}
