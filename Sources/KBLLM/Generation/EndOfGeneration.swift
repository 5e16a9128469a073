/// The tokens that end a model's turn, found as llama.cpp finds them (`llama_vocab::load`,
/// `special_eog_ids`, llama.cpp as vendored in llama-cpp-python 0.3.36): the end-of-sequence
/// token, `tokenizer.ggml.eot_token_id` and `eom_token_id`, every token whose text is one of
/// llama.cpp's end markers (`<|im_end|>`, `<|endoftext|>`, `</s>` …, whatever the token's type), and
/// the fill-in-the-middle pad, repository and file-separator tokens, which llama.cpp also treats as
/// an end. (llama.cpp's special cases for gpt-oss and solar-open vocabularies are not copied.)
public struct EndOfGeneration: Sendable, Equatable {
    /// Token texts llama.cpp treats as ending a turn.
    public static let markerTexts: [String] = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
        "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
        "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
        "<\u{FF5C}end\u{2581}of\u{2581}sentence\u{FF5C}>", "[e~[",
    ]
    /// Names of the fill-in-the-middle tokens llama.cpp adds to the end tokens, by role; the
    /// first name of a role found in the vocabulary wins, unless the metadata names the token.
    static let fillInTheMiddle: [(key: String, names: [String])] = [
        ("tokenizer.ggml.fim_pad_token_id", ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"]),
        ("tokenizer.ggml.fim_rep_token_id", ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"]),
        ("tokenizer.ggml.fim_sep_token_id", ["<|file_sep|>"]),
    ]

    /// The end-of-generation token ids.
    public let tokens: Set<Int32>

    /// The end tokens of `tokenizer`'s vocabulary; `metadata` adds the ids it names
    /// (end of turn, end of message, fill-in-the-middle tokens).
    public init(tokenizer: BPETokenizer, metadata: GGUFMetadata? = nil) {
        var tokens = Set<Int32>()
        func metadataToken(_ key: String) -> Int32? {
            guard let id = metadata?[key]?.intValue, id >= 0, id < tokenizer.vocabularySize else { return nil }
            return Int32(id)
        }
        if let eos = tokenizer.eos { tokens.insert(eos) }
        for key in ["tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"] {
            if let id = metadataToken(key) { tokens.insert(id) }
        }
        for text in Self.markerTexts {
            if let id = tokenizer.id(of: text) { tokens.insert(id) }
        }
        for role in Self.fillInTheMiddle {
            if let id = metadataToken(role.key) ?? role.names.lazy.compactMap({ tokenizer.id(of: $0) }).first {
                tokens.insert(id)
            }
        }
        self.tokens = tokens
    }

    /// A given set (tests, or a caller overriding the model's).
    public init(tokens: Set<Int32>) { self.tokens = tokens }

    /// Whether `token` ends the generation.
    public func contains(_ token: Int32) -> Bool { tokens.contains(token) }
}
