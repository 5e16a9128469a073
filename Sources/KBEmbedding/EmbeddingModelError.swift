import Foundation

/// Why an embedding model could not be loaded from its folder. Errors of the weights file and the
/// vocabulary are reported as ``SafeTensorsError`` and ``WordPieceVocabularyError``.
public enum EmbeddingModelError: Error, CustomStringConvertible, Equatable {
    /// A file the model needs is not in its folder.
    case missingFile(URL)
    /// `config.json` cannot be read or lacks a field.
    case badConfig(file: URL, reason: String)
    /// The configuration describes a model this code does not implement.
    case unsupported(file: URL, reason: String)

    /// A message naming the file and the problem.
    public var description: String {
        switch self {
        case let .missingFile(file):
            return "model file \(file.path) is missing (scripts/fetch-models.sh fetches the models)"
        case let .badConfig(file, reason):
            return "model configuration \(file.path) is invalid: \(reason)"
        case let .unsupported(file, reason):
            return "model configuration \(file.path) is not supported: \(reason)"
        }
    }
}
