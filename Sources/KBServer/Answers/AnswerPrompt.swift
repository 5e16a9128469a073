import Foundation
import KBSearch

/// Lays out the prompt of a cited answer for KV-cache reuse:
///
/// 1. a fixed system prompt, byte-identical for every request, so its keys and values are computed
///    once and then found in the engine's prefix cache;
/// 2. the conversation so far (follow-up questions share it as a longer prefix);
/// 3. one user message with the numbered sources and then the question, the part that changes.
enum AnswerPrompt {
    static let systemPrompt = """
        You are kb, an assistant that answers questions using only the numbered sources provided with \
        each question. Cite the sources you use with their numbers in square brackets, like [1] or [2][3], \
        right after the statement they support. If the sources do not contain the answer, say that the \
        knowledge base does not contain it; do not guess. Answer in the language of the question.
        """

    /// Said without calling the model when retrieval finds nothing relevant.
    static let nothingFound = "I found nothing relevant to this question in the knowledge base, so I cannot answer it from its documents."

    /// The longest chunk text given to the model, in Unicode scalars (a merged span can be long).
    static let maxSourceScalars = 2000

    /// - Parameters:
    ///   - extraSystem: a client's own system instructions, appended after the fixed prompt.
    static func messages(question: String, history: [PromptMessage], sources: [Citation],
                         extraSystem: String? = nil) -> [PromptMessage] {
        var system = systemPrompt
        if let extraSystem, !extraSystem.isEmpty { system += "\n\n" + extraSystem }
        var messages = [PromptMessage(.system, system)]
        messages += history
        var context = "Sources:\n"
        for source in sources {
            let heading = source.headingPath.filter { $0 != source.title }
            let label = ([source.title] + heading).joined(separator: " › ")
            var text = source.text
            if text.unicodeScalars.count > maxSourceScalars {
                text = String(String.UnicodeScalarView(text.unicodeScalars.prefix(maxSourceScalars))) + " …"
            }
            context += "\n[\(source.marker)] \(label)\n\(text)\n"
        }
        context += "\nQuestion: \(question)"
        messages.append(PromptMessage(.user, context))
        return messages
    }
}
