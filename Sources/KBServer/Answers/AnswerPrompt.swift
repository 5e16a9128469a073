import Foundation
import KBSearch

/// Lays out the prompt of a cited answer for KV-cache reuse and for small models:
///
/// 1. a fixed system prompt with the instructions, then one worked example as a first turn, byte-identical
///    for every request, so their keys and values are computed once and then found in the engine's
///    prefix cache;
/// 2. the conversation so far (follow-up questions share it as a longer prefix);
/// 3. one user message: the numbered sources, then the question.
///
/// Each source is its marker line `[n]` and then its ``sourceBlock(_:)``, which depends on the chunk
/// alone (label, text and the blank line after it), never on its rank or on the question: the same
/// chunk has the same tokens in every prompt (a newline ends the marker line, the block ends with
/// its own blank line, and the tokenizer never merges a newline run with the text after it).
/// Sources come in a stable order, by document and then position (``ordered(_:)``), so prompts that
/// share chunks share a prefix.
enum AnswerPrompt {
    static let systemPrompt = """
        You are kb, an assistant that answers questions from a company's documents. The user gives numbered \
        sources taken from the documents, then a question. Answer the question in one or two short sentences, \
        using only facts stated in the sources, and give the exact value the question asks for (a name, \
        number, version, address or date) as the source writes it. End each sentence with the number of the \
        source it comes from in square brackets, like [2]. If no source mentions what the question asks \
        about, say: The documents do not say. Answer in the language of the question.
        """

    /// A worked example, given as the first turn of every conversation (fixed, so it is cached with
    /// the system prompt). Its topic is far from any knowledge base's, so that it is not copied.
    static let example = [
        PromptMessage(.user, """
            Sources:

            [1]
            Office network › VPN
            Staff connect to the office VPN with WireGuard. The server is vpn.example.com on port 51820.

            [2]
            Printers
            The colour printer on the third floor is named hp-3f-colour.

            Question: Which port does the VPN server use?
            """),
        PromptMessage(.assistant, "The VPN server uses port 51820 [1]."),
    ]

    /// Said without calling the model when retrieval finds nothing relevant.
    static let nothingFound = "I found nothing relevant to this question in the knowledge base, so I cannot answer it from its documents."

    /// The longest chunk text given to the model, in Unicode scalars (a merged span can be long).
    static let maxSourceScalars = 2000

    /// Sources scoring below this share of the best one are left out: when the first is decisive,
    /// the model reads it alone instead of being misled by near-misses (and reads a shorter prompt).
    static let relativeScoreFloor = 0.5

    /// The retrieved chunks worth giving the model: those within ``relativeScoreFloor`` of the best
    /// score (the best one always), in rank order.
    static func selected(_ hits: [SearchHit]) -> [SearchHit] {
        guard let best = hits.first?.score else { return [] }
        return hits.enumerated().filter { $0.offset == 0 || $0.element.score >= best * relativeScoreFloor }.map(\.element)
    }

    /// The sources in prompt order: by document, then by position in it; `marker` numbers them in
    /// that order (their retrieval `rank` is kept).
    static func ordered(_ sources: [Citation]) -> [Citation] {
        sources.sorted { ($0.documentID, $0.startOffset) < ($1.documentID, $1.startOffset) }
            .enumerated().map { index, source in
                var source = source
                source.marker = index + 1
                return source
            }
    }

    /// One source as the model reads it, without its marker: the document title and heading path on
    /// one line, then the chunk text (cut at ``maxSourceScalars``), then a blank line. A function of
    /// the chunk only.
    static func sourceBlock(_ source: Citation) -> String {
        let heading = source.headingPath.filter { $0 != source.title }
        let label = ([source.title] + heading).joined(separator: " › ")
        var text = source.text
        if text.unicodeScalars.count > maxSourceScalars {
            text = String(String.UnicodeScalarView(text.unicodeScalars.prefix(maxSourceScalars))) + " …"
        }
        return label + "\n" + text + "\n\n"
    }

    /// - Parameters:
    ///   - sources: in prompt order (``ordered(_:)``), numbered 1…n.
    ///   - extraSystem: a client's own system instructions, appended after the fixed prompt.
    static func messages(question: String, history: [PromptMessage], sources: [Citation],
                         extraSystem: String? = nil) -> [PromptMessage] {
        var system = systemPrompt
        if let extraSystem, !extraSystem.isEmpty { system += "\n\n" + extraSystem }
        var messages = [PromptMessage(.system, system)] + example
        messages += history
        var context = "Sources:\n\n"
        for source in sources {
            context += "[\(source.marker)]\n" + sourceBlock(source)
        }
        context += "Question: \(question)"
        messages.append(PromptMessage(.user, context))
        return messages
    }
}
