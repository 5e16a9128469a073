/// Renders a conversation into the prompt text a chat model was trained on.
///
/// GGUF files carry their template as Jinja source (`tokenizer.chat_template`). Like llama.cpp
/// (`llm_chat_detect_template`), kb does not run Jinja: it recognises the template's format and
/// renders that format in Swift. Recognised so far: ChatML (`<|im_start|>role\ncontent<|im_end|>\n`),
/// the format of Qwen2.5 and SmolLM2, including the default system prompt their templates insert
/// when the conversation has none. Tests hold the output to the real templates run by Python's
/// jinja2 (`Fixtures/chat-templates.json`).
public struct ChatTemplate: Sendable, Equatable {
    /// The prompt formats kb can render.
    public enum Format: String, Sendable, CaseIterable {
        /// `<|im_start|>{role}\n{content}<|im_end|>\n` per message.
        case chatML = "chatml"
    }

    /// The format.
    public let format: Format
    /// The system message the template inserts when the conversation does not start with one
    /// (nil: none is inserted).
    public let defaultSystemPrompt: String?

    /// A template of `format` with an optional default system prompt (what a caller supplies
    /// for a model whose own template is missing or unknown).
    public init(format: Format, defaultSystemPrompt: String? = nil) {
        self.format = format
        self.defaultSystemPrompt = defaultSystemPrompt
    }

    /// ChatML without a default system prompt.
    public static let chatML = ChatTemplate(format: .chatML)

    /// The template of a model file, recognised from `tokenizer.chat_template`.
    /// - Throws: ``ChatTemplateError/missingTemplate(file:)`` or
    ///   ``ChatTemplateError/unknownTemplate(file:excerpt:)``.
    public init(metadata: GGUFMetadata) throws {
        guard let source = metadata["tokenizer.chat_template"]?.stringValue else {
            throw ChatTemplateError.missingTemplate(file: metadata.file)
        }
        try self.init(jinja: source, file: metadata.file)
    }

    /// Recognises a Jinja chat template's format.
    /// - Parameter file: names the template's origin in errors.
    /// - Throws: ``ChatTemplateError/unknownTemplate(file:excerpt:)``.
    public init(jinja source: String, file: String = "chat template") throws {
        guard source.contains("<|im_start|>"), source.contains("<|im_end|>") else {
            let flat = source.replacingOccurrences(of: "\n", with: " ")
            throw ChatTemplateError.unknownTemplate(file: file, excerpt: String(flat.prefix(60)))
        }
        self.init(format: .chatML, defaultSystemPrompt: Self.literalSystemPrompt(in: source))
    }

    /// A piece of a rendered prompt: the template's own markers, or text (roles, contents).
    public enum Fragment: Sendable, Equatable {
        /// A marker of the template (`<|im_start|>`): tokenized as the control token it names.
        case control(String)
        /// Anything else, including every message's content: tokenized as plain text, so that
        /// control-token text inside a question or a document stays text.
        case text(String)

        var string: String {
            switch self {
            case .control(let marker), .text(let marker): marker
            }
        }
    }

    /// Renders `messages`, then, if `addGenerationPrompt`, the opening of the assistant's turn
    /// (`<|im_start|>assistant\n`) so the model writes the answer next.
    /// - Throws: ``ChatTemplateError/noMessages`` for an empty conversation.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) throws -> String {
        try fragments(messages, addGenerationPrompt: addGenerationPrompt).map(\.string).joined()
    }

    /// The rendered prompt as markers and text (adjacent text joined): what ``tokenize(_:with:addGenerationPrompt:)``
    /// encodes, and, joined, what ``render(_:addGenerationPrompt:)`` returns.
    /// - Throws: ``ChatTemplateError/noMessages`` for an empty conversation.
    public func fragments(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) throws -> [Fragment] {
        guard let first = messages.first else { throw ChatTemplateError.noMessages }
        var fragments: [Fragment] = []
        func text(_ string: String) {
            if case .text(let previous) = fragments.last {
                fragments[fragments.count - 1] = .text(previous + string)
            } else if !string.isEmpty {
                fragments.append(.text(string))
            }
        }
        switch format {
        case .chatML:
            func turn(_ role: String, _ content: String) {
                fragments.append(.control("<|im_start|>"))
                text("\(role)\n\(content)")
                fragments.append(.control("<|im_end|>"))
                text("\n")
            }
            if first.role != .system, let defaultSystemPrompt { turn("system", defaultSystemPrompt) }
            for message in messages { turn(message.role.rawValue, message.content) }
            if addGenerationPrompt {
                fragments.append(.control("<|im_start|>"))
                text("assistant\n")
            }
        }
        return fragments
    }

    /// The token ids of the rendered conversation. Only the template's own markers become control
    /// tokens; the text of every message is encoded literally (``BPETokenizer/encodeLiteral(_:)``),
    /// so `<|im_end|><|im_start|>system` written in a question, a history turn or a retrieved
    /// document cannot open a turn of its own. For text free of control-token text this is exactly
    /// `tokenizer.encode(render(messages), addSpecial: true, parseSpecial: true)`.
    /// - Throws: ``ChatTemplateError/noMessages`` for an empty conversation.
    public func tokenize(_ messages: [ChatMessage], with tokenizer: BPETokenizer,
                         addGenerationPrompt: Bool = true) throws -> [BPETokenizer.Token] {
        var tokens = tokenizer.encode("", addSpecial: true)   // BOS, where the model wants one
        for fragment in try fragments(messages, addGenerationPrompt: addGenerationPrompt) {
            switch fragment {
            case .control(let marker): tokens += tokenizer.encode(marker, parseSpecial: true)
            case .text(let text): tokens += tokenizer.encodeLiteral(text)
            }
        }
        return tokens
    }

    // MARK: - Reading the default system prompt

    /// The text of a string literal in the template that writes a whole system turn,
    /// `'<|im_start|>system\n…<|im_end|>…'` (Jinja escapes decoded); nil if there is none.
    static func literalSystemPrompt(in source: String) -> String? {
        let opening = Array("<|im_start|>system".unicodeScalars)
        let closing = Array("<|im_end|>".unicodeScalars)
        let scalars = Array(source.unicodeScalars)
        var start = 0
        while let match = firstIndex(of: opening, in: scalars, from: start) {
            start = match + opening.count
            if let text = literalText(scalars, from: start, until: closing) { return text }
        }
        return nil
    }

    /// Reads a newline (written `\n` or as a real line break), then string-literal text up to
    /// `closing`; nil if the literal ends first or the text is not plain (quotes, Jinja markup).
    private static func literalText(_ scalars: [Unicode.Scalar], from start: Int,
                                    until closing: [Unicode.Scalar]) -> String? {
        var position = start
        if position < scalars.count, scalars[position] == "\n" {
            position += 1
        } else if position + 1 < scalars.count, scalars[position] == "\\", scalars[position + 1] == "n" {
            position += 2
        } else {
            return nil
        }
        var text = String.UnicodeScalarView()
        while position < scalars.count {
            if scalars[position...].starts(with: closing) { return text.isEmpty ? nil : String(text) }
            let scalar = scalars[position]
            switch scalar {
            case "'", "\"", "{", "}", "<":
                return nil
            case "\\":
                guard position + 1 < scalars.count else { return nil }
                let escaped = scalars[position + 1]
                switch escaped {
                case "n": text.append("\n")
                case "t": text.append("\t")
                case "r": text.append("\r")
                default: text.append(escaped)  // \\ \' \"
                }
                position += 2
            default:
                text.append(scalar)
                position += 1
            }
        }
        return nil
    }

    private static func firstIndex(of needle: [Unicode.Scalar], in haystack: [Unicode.Scalar], from start: Int) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        var index = start
        while index + needle.count <= haystack.count {
            if haystack[index] == needle[0], haystack[index..<index + needle.count].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}
