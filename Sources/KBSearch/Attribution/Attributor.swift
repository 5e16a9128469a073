import Foundation
import KBSupport

/// A citation of one answer sentence.
public struct SentenceCitation: Sendable, Equatable, Codable {
    public enum Origin: String, Sendable, Codable {
        /// The model wrote this marker and kb verified it.
        case model
        /// kb added it: the sentence was uncited, or the model's marker moved here.
        case kb
    }

    /// The source it points to.
    public var marker: Int
    public var origin: Origin
    /// For `.kb`: the model's marker this one replaces (moved), if any.
    public var replacedMarker: Int?
    /// support ≥ the attributor's threshold.
    public var verified: Bool
    /// 0...1, how strongly the span supports the sentence (``SupportScorer``).
    public var support: Double
    public var documentID: Int64
    public var chunkID: Int64
    /// The supporting span in its document, in Unicode scalars.
    public var startOffset: Int
    public var endOffset: Int
    /// The supporting span's text.
    public var text: String

    public init(marker: Int, origin: Origin, replacedMarker: Int?, verified: Bool, support: Double, documentID: Int64,
                chunkID: Int64, startOffset: Int, endOffset: Int, text: String) {
        self.marker = marker
        self.origin = origin
        self.replacedMarker = replacedMarker
        self.verified = verified
        self.support = support
        self.documentID = documentID
        self.chunkID = chunkID
        self.startOffset = startOffset
        self.endOffset = endOffset
        self.text = text
    }

    enum CodingKeys: String, CodingKey {
        case marker, origin, replacedMarker = "replaced_marker", verified, support, documentID = "document_id"
        case chunkID = "chunk_id", startOffset = "start_offset", endOffset = "end_offset", text
    }
}

/// A sentence with its citations.
public struct AttributedSentence: Sendable, Equatable, Codable {
    public var index: Int
    /// The sentence in the answer text, Unicode scalars (``AnswerSentence``).
    public var start: Int
    public var end: Int
    public var text: String
    /// Best first; empty when nothing supports it.
    public var citations: [SentenceCitation]
    /// Model markers removed: no such source, or unsupported with no better source.
    public var droppedMarkers: [Int]
    /// Some citation is verified.
    public var supported: Bool
    /// False for sentences that make no claim ("I don't know.", only markers, a greeting, a heading,
    /// a code block); they do not count against grounding.
    public var needsSupport: Bool

    public init(index: Int, start: Int, end: Int, text: String, citations: [SentenceCitation], droppedMarkers: [Int],
                supported: Bool, needsSupport: Bool) {
        self.index = index
        self.start = start
        self.end = end
        self.text = text
        self.citations = citations
        self.droppedMarkers = droppedMarkers
        self.supported = supported
        self.needsSupport = needsSupport
    }

    enum CodingKeys: String, CodingKey {
        case index, start, end, text, citations, droppedMarkers = "dropped_markers", supported
        case needsSupport = "needs_support"
    }
}

/// Finds, for each answer sentence, the source spans that support it; verifies the model's own
/// `[n]` markers and cites sentences the model left uncited.
///
/// For each model marker of a sentence: no such source → dropped; the cited source's best span
/// supports the sentence (support ≥ `threshold`) → kept (`.model`, verified); else the best other
/// source that does is cited instead (`.kb`, `replacedMarker` = the model's); else dropped. A
/// sentence that needs support and is left with no citation (the model wrote none, or only markers
/// of sources that do not exist) gets kb's: the best supporting source if ≥ `threshold`, and the
/// second best too if also ≥ `threshold` and within ``secondCitationGap`` of the first.
/// Scores are ``SupportScorer``'s; spans are ``EvidenceSpans``'.
///
/// Threads: immutable after `init` except the span embeddings, computed once behind a lock.
public final class Attributor: Sendable {
    /// The default threshold: a span must hold a little more than half of the sentence's weighted
    /// evidence (its IDF-weighted content terms, with its numbers and names). On the labelled
    /// examples of `AttributionTests` (paraphrases, and on-topic claims the sources do not make),
    /// lexical support is ≥ 0.64 for supported and ≤ 0.42 for unsupported English sentences; Chinese
    /// ones are closer (≥ 0.55 and ≤ 0.50, a sentence half of whose bigrams are in a source). With
    /// multilingual-e5-small as embedder: English ≥ 0.62 / ≤ 0.45, Chinese ≥ 0.58 / ≤ 0.53.
    /// 0.53 lies in every gap, barely in the Chinese ones: treat it as a starting point, not a
    /// measured optimum.
    public static let defaultThreshold = 0.53
    /// A second kb citation must score within this of the first.
    public static let secondCitationGap = 0.1

    public let sources: [AttributionSource]
    public let threshold: Double
    let scorer: SupportScorer
    private let embed: (@Sendable ([String]) throws -> [[Float]])?
    private let spanVectors = Locked<SpanVectors>(.pending)
    private let sourceOfMarker: [Int: Int]

    enum SpanVectors: Sendable {
        case pending
        case ready([[Float]])
        case unavailable
    }

    /// - Parameters:
    ///   - sources: the sources the model was given.
    ///   - embed: optional sentence embedder (texts in, unit vectors out, in order), used with lexical
    ///     overlap; nil = lexical only. Source spans are embedded once, lazily or in ``prepare()``;
    ///     each answer sentence once. If it throws or returns the wrong number of vectors, attribution
    ///     is lexical only.
    ///   - threshold: the support a citation needs to count as verified.
    ///   - question: what was asked; the answer's words that repeat it weigh less (``SupportScorer``).
    /// - Complexity: O(total source length) to cut and index the sources.
    public init(sources: [AttributionSource], embed: (@Sendable ([String]) throws -> [[Float]])?,
                threshold: Double = Attributor.defaultThreshold, question: String = "") {
        self.sources = sources
        self.embed = embed
        self.threshold = threshold
        self.scorer = SupportScorer(evidence: EvidenceSpans(sources: sources), question: question)
        var sourceOfMarker: [Int: Int] = [:]
        for (index, source) in sources.enumerated() where sourceOfMarker[source.marker] == nil {
            sourceOfMarker[source.marker] = index
        }
        self.sourceOfMarker = sourceOfMarker
    }

    /// Embeds the source spans now (call while the model generates, so attribution after the last
    /// token is fast). Idempotent.
    public func prepare() {
        _ = vectors()
    }

    /// Attributes one sentence (streaming: each sentence as ``AnswerSentences`` completes it).
    public func attribute(_ sentence: AnswerSentence, index: Int) -> AttributedSentence {
        var vector: [Float]?
        if embed != nil, Self.isScorable(sentence), vectors() != nil { vector = embedAnswer([sentence.text])?.first }
        return attribute(sentence, index: index, vector: vector)
    }

    /// Whole answer at once (non-streaming): its sentences embedded in one call.
    public func attribute(answer: String) -> [AttributedSentence] {
        let sentences = AnswerSentences.split(answer, final: true).sentences
        var vectors = [[Float]?](repeating: nil, count: sentences.count)
        if embed != nil, self.vectors() != nil {
            let scorable = sentences.indices.filter { Self.isScorable(sentences[$0]) }
            if let embedded = embedAnswer(scorable.map { sentences[$0].text }) {
                for (k, index) in scorable.enumerated() { vectors[index] = embedded[k] }
            }
        }
        return sentences.indices.map { attribute(sentences[$0], index: $0, vector: vectors[$0]) }
    }

    // MARK: Verification

    private func attribute(_ sentence: AnswerSentence, index: Int, vector: [Float]?) -> AttributedSentence {
        let claim = scorer.claim(sentence.isCode ? "" : sentence.text, vector: vector)
        // A sentence that only restates the question claims nothing, and nothing is cited for it.
        guard claim.addsToQuestion else {
            return AttributedSentence(index: index, start: sentence.start, end: sentence.end, text: sentence.text,
                                      citations: [], droppedMarkers: sentence.markers, supported: false, needsSupport: false)
        }
        let needsSupport = !claim.isEmpty && Self.makesClaim(sentence)
        let best = claim.isEmpty && sentence.markers.isEmpty
            ? [] : scorer.bestSpans(for: claim, vectors: claim.vector == nil ? nil : vectors())
        var citations: [SentenceCitation] = []
        var dropped: [Int] = []
        func isCited(_ source: Int) -> Bool { citations.contains { $0.marker == sources[source].marker } }

        for marker in sentence.markers {
            guard let source = sourceOfMarker[marker] else { dropped.append(marker); continue }
            if let own = best[source], own.support >= threshold {
                if !isCited(source) { citations.append(citation(own, origin: .model, replacing: nil)) }
                continue
            }
            let other = best.indices
                .filter { $0 != source && (best[$0]?.support ?? 0) >= threshold }
                .max { (best[$0]?.support ?? 0) < (best[$1]?.support ?? 0) }
            if let other, let better = best[other], !isCited(other) {
                citations.append(citation(better, origin: .kb, replacing: marker))
            } else {
                dropped.append(marker)
            }
        }

        if citations.isEmpty, needsSupport {
            let ranked = best.compactMap { $0 }.filter { $0.support >= threshold }.sorted { $0.support > $1.support }
            if let first = ranked.first {
                citations.append(citation(first, origin: .kb, replacing: nil))
                if ranked.count > 1, ranked[1].support >= first.support - Self.secondCitationGap {
                    citations.append(citation(ranked[1], origin: .kb, replacing: nil))
                }
            }
        }
        citations.sort { $0.support > $1.support }   // stable: ties keep the model's order
        return AttributedSentence(index: index, start: sentence.start, end: sentence.end, text: sentence.text,
                                  citations: citations, droppedMarkers: dropped,
                                  supported: citations.contains { $0.verified }, needsSupport: needsSupport)
    }

    private func citation(_ best: SupportScorer.Best, origin: SentenceCitation.Origin, replacing: Int?) -> SentenceCitation {
        let evidence = scorer.evidence
        let span = evidence.spans[best.span]
        let source = sources[span.source]
        let range = evidence.documentRange(of: span)
        return SentenceCitation(marker: source.marker, origin: origin, replacedMarker: replacing,
                                verified: best.support >= threshold, support: best.support,
                                documentID: source.documentID, chunkID: source.chunkID,
                                startOffset: range.lowerBound, endOffset: range.upperBound, text: evidence.text(of: span))
    }

    // MARK: Embeddings

    /// The spans' unit vectors (pairs: the normalized sum of their sentences'), computed on first
    /// use; nil without an embedder or when it failed.
    private func vectors() -> [[Float]]? {
        guard let embed else { return nil }
        return spanVectors.withLock { state -> [[Float]]? in
            switch state {
            case .ready(let vectors): return vectors
            case .unavailable: return nil
            case .pending:
                let evidence = scorer.evidence
                let texts = evidence.sentenceTexts
                guard let embedded = try? embed(texts), embedded.count == texts.count else {
                    state = .unavailable
                    return nil
                }
                var vectors = embedded.map(Self.normalized)
                for span in evidence.spans[evidence.sentenceCount...] {
                    guard let (a, b) = span.pair, vectors[a].count == vectors[b].count else { vectors.append([]); continue }
                    vectors.append(Self.normalized(zip(vectors[a], vectors[b]).map { $0 + $1 }))
                }
                state = .ready(vectors)
                return vectors
            }
        }
    }

    private func embedAnswer(_ texts: [String]) -> [[Float]]? {
        guard let embed, !texts.isEmpty, let vectors = try? embed(texts), vectors.count == texts.count else { return nil }
        return vectors.map(Self.normalized)
    }

    private static func normalized(_ vector: [Float]) -> [Float] {
        var norm: Float = 0
        for x in vector { norm += x * x }
        norm = norm.squareRoot()
        return norm > 0 ? vector.map { $0 / norm } : vector
    }

    // MARK: Claims

    /// Worth embedding: not code, not empty.
    private static func isScorable(_ sentence: AnswerSentence) -> Bool {
        !sentence.isCode && !sentence.text.isEmpty
    }

    /// False for sentences that state nothing to check against the sources: code blocks, headings,
    /// lead-ins ending in `:`, greetings and thanks, a bare "Yes." or "No.", and statements that the answer is not known or
    /// that the sources do not say ("I don't know.", "The knowledge base does not contain this.",
    /// "知识库中没有相关信息。"). A sentence without content terms is decided by the caller.
    static func makesClaim(_ sentence: AnswerSentence) -> Bool {
        if sentence.isCode { return false }
        let text = sentence.text.lowercased().replacingOccurrences(of: "’", with: "'")
        let trimmed = text.trimmingCharacters(in: .whitespaces.union(.punctuationCharacters).union(.symbols))
        if trimmed.isEmpty || text.hasPrefix("#") || text.hasSuffix(":") || text.hasSuffix("：") { return false }
        if greetings.contains(trimmed) { return false }
        if unknownPrefixes.contains(where: { trimmed.hasPrefix($0) }) { return false }
        let aboutSources = sourceWords.contains { trimmed.contains($0) }
        let negated = negations.contains { trimmed.contains($0) }
        return !(aboutSources && negated)
    }

    private static let greetings: Set<String> = [
        "hello", "hi", "hey", "thanks", "thank you", "you're welcome", "sure", "of course", "certainly", "ok", "okay",
        "great question", "good question", "yes", "no", "你好", "谢谢", "当然", "好的",
    ]
    private static let unknownPrefixes = [
        "i don't know", "i do not know", "i'm not sure", "i am not sure", "i could not find", "i couldn't find",
        "i cannot find", "i can't find", "i cannot answer", "i can't answer", "i'm sorry", "sorry", "unfortunately",
        "我不知道", "抱歉", "对不起", "无法回答",
    ]
    private static let sourceWords = [
        "knowledge base", "the source", "these source", "the context", "the document", "the passage",
        "provided source", "provided context", "provided document", "provided text", "provided information",
        "any information", "no information", "enough information", "more information",
        "知识库", "资料", "来源", "上下文", "提供的",
    ]
    private static let negations = [
        "not ", "no ", "n't", "none", "nothing", "neither", "没有", "未", "不", "无",
    ]
}
