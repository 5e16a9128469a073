import Foundation
import KBStore

/// How strongly a source span supports an answer sentence, from 0 to 1.
///
///     support  = (1 − α)·lexical + α·semantic      α = 0.15 with an embedder, 0 without
///     lexical  = R                                 when the sentence has no exact tokens
///              = 0.6·R + 0.4·E                     otherwise
///     R        = Σ_{t ∈ A ∩ S} w(t) / Σ_{t ∈ A} w(t)
///     E        = Σ_{x found verbatim in the span} v(x) / Σ_x v(x)  over the sentence's exact tokens x,
///                v(x) = 2 for a token with a digit, else 1
///     semantic = clamp((cos(a, s) − c̄) / (1 − c̄), 0, 1),  c̄ = mean cos(a, s') over the sources' sentences
///
/// - Terms and exact tokens of the answer sentence that the question holds and no source does weigh
///   ``questionTermWeight`` of their weight: an answer restates its question ("the person who
///   maintains dictconv for the Debian project is …"), and its wording need not be in a source.
///   Question terms that a source holds keep their weight, and more: they name what the sentence is
///   about (its anchors: `dictconv` in "Dictconv is maintained by …"), and a span that holds none
///   of the sentence's anchors is a near-miss (another package's record, with its own maintainer).
///   Its support is scaled by ½ + ½·(the anchors' weighted share in the span), so
///   a record about something else cannot verify a claim about the subject asked about.
/// - Values: an exact token of the sentence with a digit or a `/` (a number, version, date, URL or
///   path) that the question does not hold is the answer's value. A span without one of them
///   cannot support the sentence: its support is scaled by ``missingValueShare`` (a URL that only
///   looks like the source's is not the source's).
/// - A sentence with no term or exact token beyond the question's ("The package sumatra is in
///   Debian 12.") adds nothing to it: ``Claim/addsToQuestion`` is false, and it is not a claim.
/// - A, S: the content terms of the answer sentence and of the span (``SupportTerms``: words from
///   ``QueryTerms/parse(_:)`` without stopwords, lightly stemmed; each CJK run as its character
///   bigrams, since a whole run rarely repeats verbatim). R is the recall of the *answer's* terms:
///   a span supports a sentence when it says what the sentence says, however much more it says.
/// - w(t): IDF over the sources' sentences (``EvidenceSpans``), so a word every source repeats (the
///   subject of the question) proves little and a rare one much.
/// - Exact tokens: numbers, versions, URLs, file and module names (`3.12`, `setup.py`, `os.path`)
///   and capitalized names after the first word. Found verbatim (case-insensitive, whole words) they
///   are strong evidence; missing ("3.11" where the span says "3.12") they pull the score down
///   even when every word matches.
/// - cos: the sentence's and the span's embeddings (a pair of sentences uses the normalized sum
///   of its two vectors), measured from the sentence's mean cosine to the sources' sentences, as
///   models differ in where "unrelated" lies (all-MiniLM-L6-v2 near 0.2, multilingual-e5-small
///   near 0.85). The share is small because embeddings measure topic, not fact: on the labelled
///   examples of `AttributionTests`, both models put "Python switches threads every 100 bytecode
///   instructions" as close to the Python FAQ as true paraphrases of it (MiniLM 0.79 vs 0.63–0.88,
///   e5 0.93 vs 0.91–0.96); with α = 0.15 they move those scores by −0.07 to +0.10 and break ties.
struct SupportScorer: Sendable {
    static let exactShare = 0.4
    /// A token with a digit (a number, version, date) weighs this much in E; other exact tokens 1.
    static let numberWeight = 2.0
    static let embeddingShare = 0.15
    /// How much more a two-sentence span must score to be preferred to a one-sentence span.
    static let pairMargin = 0.05
    /// The weight of an answer term that the question holds too, relative to its own.
    static let questionTermWeight = 0.25

    /// An answer sentence prepared for scoring against every span.
    struct Claim {
        /// Terms known to the sources, sorted by id, with their weights.
        var terms: [(id: Int32, weight: Double)] = []
        /// Σ w(t) over all of the sentence's terms, those in no source included.
        var totalWeight = 0.0
        /// Exact tokens, lowercased, with their weights (``SupportTerms/exactTokens(_:)``).
        var exact: [(token: [Unicode.Scalar], weight: Double)] = []
        var exactWeight = 0.0
        /// The sentence's unit embedding, when there is an embedder.
        var vector: [Float]?
        /// Terms of the sentence that the question holds and some source does (sorted by id, weighted).
        var anchors: [(id: Int32, weight: Double)] = []
        /// Exact tokens that carry the answer's value (digits, URLs, paths) and are not in the question.
        var values: [[Unicode.Scalar]] = []
        /// Whether the sentence says anything beyond its question (true when there is no question).
        var addsToQuestion = true

        var isEmpty: Bool { totalWeight == 0 }
    }

    /// The best span of one source for a claim.
    struct Best {
        var support: Double
        var span: Int
    }

    let evidence: EvidenceSpans
    /// The question's terms and exact tokens (lowercased) that no source holds, discounted in answers.
    let questionTerms: Set<String>
    let questionExact: Set<[Unicode.Scalar]>
    /// The question's terms that some source holds: the anchors of a sentence that repeats them.
    let questionAnchors: Set<Int32>
    /// How much a span with none of a sentence's anchors keeps of its support.
    static let anchorlessShare = 0.5
    /// How much a span that lacks one of the sentence's values keeps of its support.
    static let missingValueShare = 0.5
    /// Every term and exact token of the question (empty without one).
    let allQuestionTerms: Set<String>
    let allQuestionExact: Set<[Unicode.Scalar]>

    init(evidence: EvidenceSpans, question: String = "") {
        self.evidence = evidence
        let terms = SupportTerms.of(question)
        allQuestionTerms = Set(terms)
        allQuestionExact = Set(SupportTerms.exactTokens(question))
        questionAnchors = Set(terms.compactMap { evidence.termIDs[$0] })
        questionTerms = Set(terms.filter { evidence.termIDs[$0] == nil })
        questionExact = Set(SupportTerms.exactTokens(question).filter { token in
            !evidence.lowered.contains { SupportTerms.contains($0, 0..<$0.count, word: token) }
        })
    }

    func claim(_ text: String, vector: [Float]?) -> Claim {
        var claim = Claim(vector: vector)
        var known: [(id: Int32, weight: Double)] = []
        for term in SupportTerms.of(text) {
            if let id = evidence.termIDs[term] {
                let weight = evidence.weights[Int(id)]
                known.append((id, weight))
                claim.totalWeight += weight
            } else {
                claim.totalWeight += evidence.missingWeight * (questionTerms.contains(term) ? Self.questionTermWeight : 1)
            }
        }
        claim.terms = known.sorted { $0.id < $1.id }
        claim.anchors = claim.terms.filter { questionAnchors.contains($0.id) }
        var exactTokens = SupportTerms.exactTokens(text)
        for phrase in SupportTerms.quotedPhrases(text) where !exactTokens.contains(phrase) { exactTokens.append(phrase) }
        claim.values = exactTokens.filter { token in
            !allQuestionExact.contains(token)
                && token.contains { ($0.value >= 0x30 && $0.value <= 0x39) || $0 == "/" }
        }
        if !allQuestionTerms.isEmpty || !allQuestionExact.isEmpty {
            claim.addsToQuestion = SupportTerms.of(text).contains { !allQuestionTerms.contains($0) }
                || exactTokens.contains { !allQuestionExact.contains($0) }
        }
        claim.exact = exactTokens.map { token in
            let weight = token.contains { $0.value >= 0x30 && $0.value <= 0x39 } ? Self.numberWeight : 1
            return (token, questionExact.contains(token) ? weight * Self.questionTermWeight : weight)
        }
        claim.exactWeight = claim.exact.reduce(0) { $0 + $1.weight }
        return claim
    }

    /// The lexical part of the support of `span` for `claim`.
    func lexical(_ claim: Claim, _ span: EvidenceSpan) -> Double {
        guard !claim.isEmpty else { return 0 }
        var covered = 0.0
        var i = 0, j = 0
        let spanTerms = span.terms
        while i < claim.terms.count, j < spanTerms.count {
            let a = claim.terms[i].id, b = spanTerms[j]
            if a == b { covered += claim.terms[i].weight; i += 1; j += 1 } else if a < b { i += 1 } else { j += 1 }
        }
        let recall = covered / claim.totalWeight
        var anchoring = anchorShare(claim, span)
        if claim.values.contains(where: { !SupportTerms.contains(evidence.lowered[span.source], span.start..<span.end, word: $0) }) {
            anchoring *= Self.missingValueShare
        }
        guard !claim.exact.isEmpty else { return recall * anchoring }
        let text = evidence.lowered[span.source]
        var found = 0.0
        for (token, weight) in claim.exact where SupportTerms.contains(text, span.start..<span.end, word: token) {
            found += weight
        }
        let exact = found / claim.exactWeight
        return ((1 - Self.exactShare) * recall + Self.exactShare * exact) * anchoring
    }

    /// 1 when the span holds the claim's anchors (or it has none), down to ``anchorlessShare`` when it
    /// holds none of them.
    func anchorShare(_ claim: Claim, _ span: EvidenceSpan) -> Double {
        guard !claim.anchors.isEmpty else { return 1 }
        var covered = 0.0, total = 0.0
        for anchor in claim.anchors {
            total += anchor.weight
            if span.terms.contains(anchor.id) { covered += anchor.weight }
        }
        return Self.anchorlessShare + (1 - Self.anchorlessShare) * covered / total
    }

    /// The semantic part of each span's support (see the type's formula), or nil without vectors.
    /// - Parameter vectors: the spans' unit embeddings, in span order.
    func semantics(_ claim: Claim, vectors: [[Float]]?) -> [Double]? {
        guard let a = claim.vector, let vectors, vectors.count == evidence.spans.count,
              evidence.sentenceCount > 0 else { return nil }
        let cosines = vectors.map { b -> Double in
            guard b.count == a.count else { return 0 }
            var dot: Float = 0
            for k in 0..<a.count { dot += a[k] * b[k] }
            return Double(dot)
        }
        let baseline = cosines[..<evidence.sentenceCount].reduce(0, +) / Double(evidence.sentenceCount)
        guard baseline < 1 else { return cosines.map { _ in 0 } }
        return cosines.map { min(1, max(0, ($0 - baseline) / (1 - baseline))) }
    }

    /// Support of the span at `index` for `claim`, with its semantic part if there is one.
    func support(_ claim: Claim, spanAt index: Int, semantic: Double?) -> Double {
        let lexical = lexical(claim, evidence.spans[index])
        guard let semantic else { return lexical }
        return (1 - Self.embeddingShare) * lexical + Self.embeddingShare * semantic
    }

    /// Each source's best span for `claim` (nil for a source with no spans); a pair wins only by
    /// ``pairMargin``.
    /// - Parameter vectors: the spans' unit embeddings, in span order; nil for lexical support only.
    /// - Complexity: O(spans × (terms + exact tokens × span length + dimensions)).
    func bestSpans(for claim: Claim, vectors: [[Float]]?) -> [Best?] {
        let semantics = semantics(claim, vectors: vectors)
        var best = [Best?](repeating: nil, count: evidence.sources.count)
        var rank = [Double](repeating: -.infinity, count: evidence.sources.count)
        for (index, span) in evidence.spans.enumerated() {
            let support = support(claim, spanAt: index, semantic: semantics?[index])
            let ranked = span.pair == nil ? support : support - Self.pairMargin
            if ranked > rank[span.source] {
                rank[span.source] = ranked
                best[span.source] = Best(support: support, span: index)
            }
        }
        return best
    }
}

/// The terms and exact tokens that ``SupportScorer`` compares.
enum SupportTerms {
    /// Content terms of `text`, distinct: stemmed words without stopwords, and the character
    /// bigrams of each CJK run (a run of one character is itself) without those holding a
    /// ``stopCharacters`` character.
    static func of(_ text: String) -> [String] {
        var terms: [String] = []
        var seen = Set<String>()
        for term in QueryTerms.parse(text) {
            switch term {
            case .word(let word):
                guard !Stopwords.english.contains(word) else { continue }
                let stemmed = stem(word)
                if seen.insert(stemmed).inserted { terms.append(stemmed) }
            case .ideographs(let run):
                if run.count == 1 {
                    let single = String(run[0])
                    if seen.insert(single).inserted { terms.append(single) }
                }
                for k in 0..<max(0, run.count - 1) where !stopCharacters.contains(run[k]) && !stopCharacters.contains(run[k + 1]) {
                    var bigram = String.UnicodeScalarView()
                    bigram.append(run[k])
                    bigram.append(run[k + 1])
                    let text = String(bigram)
                    if seen.insert(text).inserted { terms.append(text) }
                }
            }
        }
        return terms
    }

    /// Chinese function characters: a bigram holding one (的是, 写的, 这首) says nothing about content,
    /// as English stopwords do not.
    static let stopCharacters: Set<Unicode.Scalar> = [
        "的", "了", "是", "在", "和", "与", "及", "也", "都", "就", "而", "之", "其", "这", "那", "个", "着",
        "把", "被", "让", "给", "对", "从", "向", "于", "以",
    ]

    /// A light English suffix stripper, the same on both sides of a comparison, so that
    /// "packages"/"package" and "provides"/"provided"/"providing" meet. Not Porter: only plural,
    /// `-ing`, `-ed` and a final `e`.
    static func stem(_ word: String) -> String {
        var w = Array(word.utf8)
        guard w.count > 3, w.allSatisfy({ $0 < 0x80 }) else { return word }
        func ends(_ suffix: String) -> Bool { w.count > suffix.utf8.count && w.suffix(suffix.utf8.count).elementsEqual(suffix.utf8) }
        if ends("ies"), w.count > 4 {
            w.removeLast(3)
            w.append(UInt8(ascii: "y"))
        } else if ends("sses") {
            w.removeLast(2)
        } else if ends("s"), !ends("ss"), !ends("us"), !ends("is") {
            w.removeLast()
        } else if ends("ing"), w.count > 5 {
            w.removeLast(3)
        } else if ends("ed"), w.count > 4 {
            w.removeLast(2)
        }
        if w.count > 3, w.last == UInt8(ascii: "e") { w.removeLast() }
        return String(decoding: w, as: UTF8.self)
    }

    /// Tokens that must appear verbatim to count: those with a digit (numbers, versions, dates), a
    /// URL, a word joined by `.`, `_`, `/` or `\` (`setup.py`, `os.path`, `/etc/apt`), and
    /// capitalized words after the first (names). Lowercased, distinct. Tokens are separated by
    /// white space, CJK characters and non-ASCII punctuation; surrounding ASCII punctuation is
    /// trimmed.
    /// Text an answer quotes (“…”, "…", 「…」, 『…』), lowercased, 1 to 60 characters, without the
    /// quotes: what the answer says a source says, matched verbatim like an exact token. It lets an
    /// answer in one language quote its source in another ("The English meaning of “盈余” is
    /// “profit”."). Titles in 《…》 are names, not quotes: they are left to the terms.
    static func quotedPhrases(_ text: String) -> [[Unicode.Scalar]] {
        let pairs: [Unicode.Scalar: Unicode.Scalar] = ["\u{201C}": "\u{201D}", "\"": "\"", "\u{300C}": "\u{300D}",
                                                       "\u{300E}": "\u{300F}"]
        let scalars = Array(text.unicodeScalars)
        var phrases: [[Unicode.Scalar]] = []
        var i = 0
        while i < scalars.count {
            guard let close = pairs[scalars[i]], let end = scalars[(i + 1)...].firstIndex(of: close) else { i += 1; continue }
            var phrase = Array(scalars[(i + 1)..<end])
            while let last = phrase.last, ".,;:!?。，；：！？ ".unicodeScalars.contains(last) { phrase.removeLast() }
            while let first = phrase.first, first == " " { phrase.removeFirst() }
            if (1...60).contains(phrase.count) {
                let lowered = phrase.map(lowercased)
                if !phrases.contains(lowered) { phrases.append(lowered) }
            }
            i = end + 1
        }
        return phrases
    }

    static func exactTokens(_ text: String) -> [[Unicode.Scalar]] {
        var tokens: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        var position = 0
        func flush() {
            defer { current.removeAll(keepingCapacity: true) }
            var slice = current[...]
            while let first = slice.first, isTrimmed(first) { slice.removeFirst() }
            while let last = slice.last, isTrimmed(last) { slice.removeLast() }
            guard !slice.isEmpty else { return }
            position += 1
            let hasDigit = slice.contains { $0.value >= 0x30 && $0.value <= 0x39 }
            var joined = false
            for k in slice.indices.dropFirst().dropLast() where ["." as Unicode.Scalar, "_", "/", "\\", ":"].contains(slice[k]) {
                if QueryTerms.isWordScalar(slice[k - 1]) || QueryTerms.isWordScalar(slice[k + 1]) { joined = true; break }
            }
            if slice.first == "/" && slice.count > 1 { joined = true }
            let token = slice.map(lowercased)
            let isName = position > 1 && slice.count > 1 && (slice.first?.properties.isUppercase ?? false)
                && slice.allSatisfy { QueryTerms.isWordScalar($0) || $0 == "-" }
                && !Stopwords.english.contains(String(String.UnicodeScalarView(token)))
            guard hasDigit || joined || isName else { return }
            if !tokens.contains(token) { tokens.append(token) }
        }
        for scalar in text.unicodeScalars {
            if scalar.properties.isWhitespace || FullTextSegmenter.isIdeographic(scalar)
                || (!scalar.isASCII && !QueryTerms.isWordScalar(scalar)) {
                flush()
            } else {
                current.append(scalar)
            }
        }
        flush()
        return tokens
    }

    private static func isTrimmed(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && !QueryTerms.isWordScalar(scalar) && scalar != "/"
    }

    /// True when `word` occurs in `text[range]` with no letter or digit right before or after it.
    static func contains(_ text: [Unicode.Scalar], _ range: Range<Int>, word: [Unicode.Scalar]) -> Bool {
        guard let first = word.first, word.count <= range.count else { return false }
        var start = range.lowerBound
        let last = range.upperBound - word.count
        while start <= last {
            if text[start] == first {
                var k = 1
                while k < word.count, text[start + k] == word[k] { k += 1 }
                if k == word.count {
                    let before = start == range.lowerBound || !QueryTerms.isWordScalar(text[start - 1])
                    let after = start + k == range.upperBound || !QueryTerms.isWordScalar(text[start + k])
                    if before && after { return true }
                }
            }
            start += 1
        }
        return false
    }

    /// The scalar lowercased when that is one scalar, else unchanged (offsets stay aligned).
    @inline(__always)
    static func lowercased(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        if scalar.isASCII {
            let v = scalar.value
            return v >= 0x41 && v <= 0x5A ? Unicode.Scalar(UInt8(v + 0x20)) : scalar
        }
        let mapping = scalar.properties.lowercaseMapping.unicodeScalars
        guard mapping.count == 1, let lower = mapping.first else { return scalar }
        return lower
    }
}
