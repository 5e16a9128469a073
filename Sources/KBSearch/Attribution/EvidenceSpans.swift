import Foundation

/// A source given to the model: its number in the prompt and its text with its place in its document.
public struct AttributionSource: Sendable {
    /// The `[n]` the model sees, 1-based.
    public var marker: Int
    public var documentID: Int64
    public var chunkID: Int64
    /// The chunk text given to the model.
    public var text: String
    /// Where `text` starts in its document, in Unicode scalars.
    public var startOffset: Int

    public init(marker: Int, documentID: Int64, chunkID: Int64, text: String, startOffset: Int) {
        self.marker = marker
        self.documentID = documentID
        self.chunkID = chunkID
        self.text = text
        self.startOffset = startOffset
    }
}

/// A candidate supporting span: one sentence of a source, or two adjacent ones.
struct EvidenceSpan: Sendable {
    /// Index of the source in ``EvidenceSpans/sources``.
    var source: Int
    /// Unicode scalar range in the source's text.
    var start: Int
    var end: Int
    /// Content term ids (``EvidenceSpans/termIDs``), sorted, distinct.
    var terms: [Int32]
    /// For a pair, the indexes of its two sentence spans; nil for a sentence.
    var pair: (Int, Int)?
}

/// Every source cut into sentence spans (the answer splitter's rules in `.source` mode: a single
/// newline is a space, since documents are often hard-wrapped), plus each pair of adjacent
/// sentences, with the term statistics that weigh them.
///
/// A pair is a candidate because an answer sentence often joins two neighbouring statements ("Li
/// Bai wrote Quiet Night Thought" from "Quiet Night Thought is a quatrain. It was written by Li Bai.");
/// the scorer asks a pair to beat its own sentences by a margin, so the shorter span wins a tie.
///
/// Term weights are IDF over the sentence spans of all sources (N of them, term t in n_t):
/// w(t) = 1 + ln((N + 1) / (n_t + 1)), and a term in no span weighs as one in a single span, so a
/// word the model added is counted against the claim but no more than the rarest source word.
struct EvidenceSpans: Sendable {
    let sources: [AttributionSource]
    /// Sentence spans first (grouped by source, in order), then pairs.
    let spans: [EvidenceSpan]
    let sentenceCount: Int
    let termIDs: [String: Int32]
    let weights: [Double]
    let missingWeight: Double
    /// Per source: its text as Unicode scalars, and the same lowercased one scalar for one.
    let scalars: [[Unicode.Scalar]]
    let lowered: [[Unicode.Scalar]]

    init(sources: [AttributionSource]) {
        self.sources = sources
        var termIDs: [String: Int32] = [:]
        var frequencies: [Int] = []
        var sentences: [EvidenceSpan] = []
        var pairs: [EvidenceSpan] = []
        var scalars: [[Unicode.Scalar]] = []
        var lowered: [[Unicode.Scalar]] = []
        for (sourceIndex, source) in sources.enumerated() {
            let text = Array(source.text.unicodeScalars)
            scalars.append(text)
            lowered.append(text.map(SupportTerms.lowercased))
            let units = SentenceScanner(scalars: text, mode: .source, final: true).units(from: 0).0
            let first = sentences.count
            for unit in units {
                let words = SupportTerms.of(String(String.UnicodeScalarView(text[unit.start..<unit.end])))
                var ids: [Int32] = []
                ids.reserveCapacity(words.count)
                for word in words {
                    if let id = termIDs[word] {
                        ids.append(id)
                    } else {
                        let id = Int32(frequencies.count)
                        termIDs[word] = id
                        frequencies.append(0)
                        ids.append(id)
                    }
                }
                ids = Array(Set(ids)).sorted()
                for id in ids { frequencies[Int(id)] += 1 }
                sentences.append(EvidenceSpan(source: sourceIndex, start: unit.start, end: unit.end, terms: ids))
            }
            for index in first..<max(first, sentences.count - 1) {
                let a = sentences[index], b = sentences[index + 1]
                pairs.append(EvidenceSpan(source: sourceIndex, start: a.start, end: b.end,
                                          terms: Array(Set(a.terms).union(b.terms)).sorted(), pair: (index, index + 1)))
            }
        }
        let n = Double(sentences.count)
        self.spans = sentences + pairs
        self.sentenceCount = sentences.count
        self.termIDs = termIDs
        self.weights = frequencies.map { 1 + log((n + 1) / (Double($0) + 1)) }
        self.missingWeight = 1 + log((n + 1) / 2)
        self.scalars = scalars
        self.lowered = lowered
    }

    /// The span's text, exactly as it stands in the source (and so in the document).
    func text(of span: EvidenceSpan) -> String {
        String(String.UnicodeScalarView(scalars[span.source][span.start..<span.end]))
    }

    /// The span's place in its document, in Unicode scalars.
    func documentRange(of span: EvidenceSpan) -> Range<Int> {
        let offset = sources[span.source].startOffset
        return (offset + span.start)..<(offset + span.end)
    }

    /// The texts to embed: one per sentence span, in span order.
    var sentenceTexts: [String] { spans[..<sentenceCount].map { text(of: $0) } }
}
