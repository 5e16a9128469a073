/// The tokens that end a model's turn, found as llama.cpp finds them (`llama_vocab::load`,
/// `special_eog_ids`): the end-of-sequence token, `tokenizer.ggml.eot_token_id` and
/// `eom_token_id`, every token whose text is a known end-of-turn marker (`<|im_end|>`,
/// `<|endoftext|>`, `<|eot_id|>` …), and the fill-in-the-middle padding/separator tokens that
/// llama.cpp also treats as an end.
public struct EndOfGeneration: Sendable, Equatable {
    /// Token texts llama.cpp recognises as ending a turn.
    public static let markerTexts: [String] = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>",
        "_<EOT>", "<|end_of_text|>", "<end_of_utterance>",
        // fill-in-the-middle pad, repository and file separators
        "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<|repo_name|>", "<reponame>", "<repo_name>",
        "<|file_sep|>", "<file_sep>",
    ]

    /// The end-of-generation token ids.
    public let tokens: Set<Int32>

    /// The end tokens of `tokenizer`'s vocabulary; `metadata` adds the end-of-turn/message ids it names.
    public init(tokenizer: BPETokenizer, metadata: GGUFMetadata? = nil) {
        var tokens = Set<Int32>()
        if let eos = tokenizer.eos { tokens.insert(eos) }
        for key in ["tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"] {
            if let id = metadata?[key]?.intValue, id >= 0, id < tokenizer.vocabularySize { tokens.insert(Int32(id)) }
        }
        for text in Self.markerTexts {
            if let id = tokenizer.id(of: text) { tokens.insert(id) }
        }
        self.tokens = tokens
    }

    /// A given set (tests, or a caller overriding the model's).
    public init(tokens: Set<Int32>) { self.tokens = tokens }

    /// Whether `token` ends the generation.
    public func contains(_ token: Int32) -> Bool { tokens.contains(token) }
}
