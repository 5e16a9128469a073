/// A tokenizer that could not be built from a GGUF file's metadata, naming the file and the problem.
public struct TokenizerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What is wrong with the tokenizer metadata.
    public enum Problem: Equatable, Sendable {
        /// `tokenizer.ggml.model` names a tokenizer kind kb does not implement (it implements `gpt2`).
        case unsupportedModel(String)
        /// `tokenizer.ggml.pre` names a pre-tokenizer kb does not implement, or is missing.
        case unsupportedPreTokenizer(String?)
        /// The token list and the token-type list differ in length.
        case tokenTypeCount(tokens: Int, types: Int)
        /// A special-token id key (e.g. `tokenizer.ggml.eos_token_id`) is outside the vocabulary.
        case tokenOutOfRange(key: String, id: Int)
    }

    /// The GGUF file the metadata came from.
    public let file: String
    /// What is wrong.
    public let problem: Problem

    public var description: String {
        switch problem {
        case .unsupportedModel(let model):
            return "\(file): tokenizer model '\(model)' is not supported (kb reads byte-level BPE, 'gpt2')"
        case .unsupportedPreTokenizer(let pre):
            let supported = PreTokenizer.allCases.map(\.rawValue).joined(separator: ", ")
            return "\(file): pre-tokenizer '\(pre ?? "(missing)")' is not supported (supported: \(supported))"
        case .tokenTypeCount(let tokens, let types):
            return "\(file): \(tokens) tokens but \(types) token types"
        case .tokenOutOfRange(let key, let id):
            return "\(file): \(key) = \(id) is outside the vocabulary"
        }
    }
}
