import Foundation
import KBEmbedding
import KBSearch
import KBSupport

/// Attributes an answer while it is generated: each sentence, once complete, is checked against the
/// sources (``Attributor``): the model's markers verified, moved or dropped, and citations added to
/// sentences the model left uncited. Pieces come in order from the generating task.
final class AnswerAttribution: Sendable {
    private let attributor: Attributor
    private struct State {
        var text = ""
        /// Where the unfinished rest of `text` begins: sentences before it are attributed.
        var consumed = 0
        var sentences: [AttributedSentence] = []
    }
    private let state = Locked(State())

    /// - Parameters:
    ///   - sources: the sources in prompt order (their markers are the model's numbers).
    ///   - embedder: the base's embedding model (nil: lexical support only).
    ///   - question: what was asked (an answer's words that repeat it need no support).
    ///   - cache: vectors of sentences embedded before (shared by the server's answers).
    init(sources: [Citation], embedder: (any Embedder)?, question: String, cache: SentenceEmbeddingCache? = nil) {
        let spans = sources.map { source in
            AttributionSource(marker: source.marker, documentID: source.documentID, chunkID: source.chunkID,
                              text: source.text, startOffset: source.startOffset)
        }
        if let embedder {
            attributor = Attributor(sources: spans, embed: { @Sendable texts in
                guard let cache else { return try embedder.embed(texts, kind: .query) }
                return try cache.vectors(of: texts) { try embedder.embed($0, kind: .query) }
            }, question: question)
        } else {
            attributor = Attributor(sources: spans, embed: nil, question: question)
        }
    }

    /// Embeds the sources' sentences (call while the model generates: the work is then done before
    /// the first sentence ends).
    func prepare() { attributor.prepare() }

    /// Adds a piece of the answer (in order: attribution keeps the answer's text).
    /// - Returns: the sentences it completed, attributed.
    func append(_ piece: String) -> [AttributedSentence] {
        state.withLock { $0.text += piece }
        return attributeRest(final: false)
    }

    /// Ends the answer.
    /// - Returns: the last sentences (the unfinished rest counts as one), attributed.
    func finish() -> [AttributedSentence] { attributeRest(final: true) }

    /// The answer so far.
    var text: String { state.current.text }

    /// Every attributed sentence so far, in order.
    var sentences: [AttributedSentence] { state.current.sentences }

    /// Splits only the text after the sentences already attributed, and attributes what it completes.
    private func attributeRest(final: Bool) -> [AttributedSentence] {
        let (text, consumed, done) = state.withLock { ($0.text, $0.consumed, $0.sentences.count) }
        let (complete, rest) = AnswerSentences.split(text, from: consumed, final: final)
        let new = complete.enumerated().map { offset, sentence in attributor.attribute(sentence, index: done + offset) }
        state.withLock {
            $0.sentences += new
            $0.consumed = rest
        }
        return new
    }
}

/// What attribution concludes about a whole answer.
struct AnswerGrounding: Sendable, Equatable {
    var sentences: [AttributedSentence]

    /// The sentences that make a claim.
    var claims: [AttributedSentence] { sentences.filter(\.needsSupport) }

    /// True when the answer makes claims and at least half of them are supported by a source. An
    /// answer that only declines ("The documents do not say.") is not grounded: it is an abstention.
    var grounded: Bool {
        let claims = claims
        return !claims.isEmpty && claims.filter(\.supported).count * 2 >= claims.count
    }

    /// The sources cited by some sentence, in order of first mention.
    func citedSources(_ sources: [Citation]) -> [Citation] {
        var order: [Int] = []
        for sentence in sentences {
            for citation in sentence.citations where !order.contains(citation.marker) { order.append(citation.marker) }
        }
        return order.compactMap { marker in sources.first { $0.marker == marker } }
    }

    /// Said after an answer that is not grounded although it makes claims.
    static let unsupportedNote = "(kb: no passage of the knowledge base supports this answer; do not rely on it.)"

    /// The answer as a reader should see it: each sentence followed by its citations, the model's
    /// verified markers as `[n]` and those kb added or moved as `[^n]`; markers that point nowhere
    /// or at a source that does not support the sentence are gone. Text between sentences is kept.
    func citedText(_ answer: String) -> String {
        let scalars = Array(answer.unicodeScalars)
        var out = String.UnicodeScalarView()
        var position = 0
        for sentence in sentences {
            let start = min(max(sentence.start, position), scalars.count)
            out.append(contentsOf: scalars[position..<start])
            var text = sentence.text
            // Keep the sentence's own closing punctuation after its markers ("… 1.5 [1].") as written.
            var closing = ""
            if let last = text.unicodeScalars.last, ".!?。！？".unicodeScalars.contains(last) {
                closing = String(last)
                text = String(text.unicodeScalars.dropLast())
            }
            text = text.trimmingCharacters(in: .whitespaces)
            let markers = sentence.citations.map { $0.origin == .model ? "[\($0.marker)]" : "[^\($0.marker)]" }.joined()
            out.append(contentsOf: (text + (markers.isEmpty ? "" : " " + markers) + closing).unicodeScalars)
            position = min(max(sentence.end, start), scalars.count)
        }
        if position < scalars.count { out.append(contentsOf: scalars[position...]) }
        var result = String(out)
        if !grounded && !claims.isEmpty { result += "\n\n" + Self.unsupportedNote }
        return result
    }
}
