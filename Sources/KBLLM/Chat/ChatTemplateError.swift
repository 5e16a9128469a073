/// Why a conversation cannot be rendered into a prompt.
public enum ChatTemplateError: Error, Equatable, CustomStringConvertible {
    /// The model file has no `tokenizer.chat_template`.
    case missingTemplate(file: String)
    /// The model's Jinja template is none of the formats kb renders; `excerpt` is its start.
    case unknownTemplate(file: String, excerpt: String)
    /// A conversation needs at least one message.
    case noMessages

    public var description: String {
        switch self {
        case .missingTemplate(let file):
            return "\(file): the model has no chat template (tokenizer.chat_template); "
                + "supply one (e.g. chatml) or use a raw prompt"
        case .unknownTemplate(let file, let excerpt):
            return "\(file): unknown chat template (kb renders ChatML templates; this one starts "
                + "\"\(excerpt)\"); supply one (e.g. chatml) or use a raw prompt"
        case .noMessages:
            return "a chat needs at least one message"
        }
    }
}
