/// Limits on the text a client sends, in UTF-8 bytes and counts: every text field is bounded
/// before any work is done on it (the body limit, `--max-body`, bounds the request as a whole).
/// The contract (`schemas/openapi.yaml`) states the same numbers.
enum InputLimits {
    /// A search query, or the question of an answer (`query`, `question`, the last chat message): 4 KiB.
    static let queryBytes = 4096
    /// Messages of a conversation: `history` turns of `/v1/ask`, `messages` of a chat completion.
    static let conversationMessages = 64
    /// All the text of a conversation together (history or messages, the question included): 64 KiB.
    static let conversationBytes = 64 << 10

    /// Checks a query or question; returns it trimmed.
    /// - Throws: 400 `empty_query` or `query_too_long`, naming `field`.
    static func query(_ text: String, field: String) throws -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            throw APIError.badRequest("empty_query", "field '\(field)' is empty; send the words to search for")
        }
        let bytes = trimmed.utf8.count
        guard bytes <= queryBytes else {
            throw APIError.badRequest("query_too_long",
                                      "field '\(field)' has \(bytes) bytes of UTF-8; the limit is \(queryBytes)")
        }
        return trimmed
    }

    /// Checks the size of a conversation.
    /// - Parameters:
    ///   - texts: the text of each message (the question included when it is one of them).
    ///   - field: the field holding the messages, for the error.
    /// - Throws: 400 `conversation_too_long`.
    static func conversation(_ texts: [String], field: String) throws {
        guard texts.count <= conversationMessages else {
            throw APIError.badRequest("conversation_too_long",
                                      "field '\(field)' has \(texts.count) messages; the limit is \(conversationMessages)")
        }
        let bytes = texts.reduce(0) { $0 + $1.utf8.count }
        guard bytes <= conversationBytes else {
            throw APIError.badRequest("conversation_too_long",
                                      "field '\(field)' has \(bytes) bytes of text; the limit is \(conversationBytes)")
        }
    }
}
