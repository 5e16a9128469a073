extension Generator {
    /// A generator for `model`: its tokenizer and end-of-generation tokens.
    public init(model: LanguageModel) {
        self.init(tokenizer: model.tokenizer,
                  endOfGeneration: EndOfGeneration(tokenizer: model.tokenizer, metadata: model.file.metadata))
    }
}

extension ChatTemplate {
    /// The chat template of `model`, recognised from its `tokenizer.chat_template`.
    /// - Throws: ``ChatTemplateError`` when the model has none or kb does not know it.
    public init(model: LanguageModel) throws {
        try self.init(metadata: model.file.metadata)
    }
}
