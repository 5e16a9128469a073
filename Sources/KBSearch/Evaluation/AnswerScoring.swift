import Foundation

/// Scores answers against an ``AnswerQuestionSet``'s gold data: accuracy by reference answer
/// contained, citation coverage and precision by the set's evidence documents (never by kb's own
/// support scorer), abstention on questions whose evidence is not in the base.
public enum AnswerScoring {
    /// Text reduced for comparison: NFKC, lower case, every run of characters other than letters,
    /// digits and ideographs made one space, and an `http(s)://` or `www.` prefix of a URL dropped,
    /// so "https://www.gnu.org/software/tar/" and "gnu.org/software/tar" compare equal.
    public static func normalize(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in text.precomposedStringWithCompatibilityMapping.lowercased().unicodeScalars {
            if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                if pendingSpace && !out.isEmpty { out.append(" ") }
                pendingSpace = false
                out.append(scalar)
            } else {
                pendingSpace = true
            }
        }
        var result = " " + String(out) + " "
        for prefix in [" https www ", " http www ", " https ", " http ", " www "] {
            result = result.replacingOccurrences(of: prefix, with: " ")
        }
        return result.trimmingCharacters(in: .whitespaces)
    }

    /// Whether one of `references`, normalised, occurs in `answer`, normalised, on word boundaries
    /// (on character boundaries for text without spaces, such as Chinese).
    public static func contains(_ answer: String, anyOf references: [String]) -> Bool {
        let haystack = " " + normalize(answer) + " "
        for reference in references {
            let needle = normalize(reference)
            guard !needle.isEmpty else { continue }
            if needle.unicodeScalars.contains(where: { $0.properties.isIdeographic }) {
                if haystack.contains(needle) { return true }
            } else if haystack.contains(" " + needle + " ") {
                return true
            }
        }
        return false
    }

    /// What was observed for one question (filled by the runner, scored by ``summarize(_:)``).
    public struct Observation: Sendable, Codable {
        public var question: AnswerQuestionSet.Question
        public var answer: String
        /// Whether kb presented the answer as unsupported by the base (or found nothing relevant).
        public var abstained: Bool
        /// Answer sentences that make a claim, and how many of them carry at least one citation.
        public var claimSentences: Int
        public var citedSentences: Int
        /// The document uri of every citation shown with the answer (one per sentence citation).
        public var citedDocuments: [String]
        /// Whether an evidence document was among the sources given to the model.
        public var evidenceRetrieved: Bool
        /// Seconds from the request to the first piece of the answer, and to its end.
        public var timeToFirstToken: Double?
        public var totalSeconds: Double
        /// Tokens in the answer.
        public var answerTokens: Int
        /// Seconds from the answer's last piece to its finished attribution (the last sentence's).
        public var attributionSeconds: Double?
        /// The answer is nothing but citation markers, or it copies a source's opening sentence
        /// instead of answering (``isOnlyMarkers(_:)``, ``copiesOpening(_:of:)``).
        public var onlyMarkers = false
        public var copiesOpening = false
        /// Prompt tokens, and those whose keys and values came from cached blocks (prefix reuse).
        public var promptTokens = 0
        public var cachedPromptTokens = 0

        public init(question: AnswerQuestionSet.Question, answer: String, abstained: Bool, claimSentences: Int,
                    citedSentences: Int, citedDocuments: [String], evidenceRetrieved: Bool,
                    timeToFirstToken: Double?, totalSeconds: Double, answerTokens: Int = 0, attributionSeconds: Double? = nil) {
            self.question = question
            self.answer = answer
            self.abstained = abstained
            self.claimSentences = claimSentences
            self.citedSentences = citedSentences
            self.citedDocuments = citedDocuments
            self.evidenceRetrieved = evidenceRetrieved
            self.timeToFirstToken = timeToFirstToken
            self.totalSeconds = totalSeconds
            self.answerTokens = answerTokens
            self.attributionSeconds = attributionSeconds
        }

        /// Right when a reference answer is contained; nil for questions without one, or unanswerable ones.
        public var correct: Bool? {
            guard question.answerable, !question.answers.isEmpty else { return nil }
            return AnswerScoring.contains(answer, anyOf: question.answers)
        }
    }

    /// The averages of a run.
    public struct Summary: Sendable, Codable, Equatable {
        public var questions: Int
        /// Right answers / answerable questions with a reference answer.
        public var accuracy: Double?
        public var scoredQuestions: Int
        /// Cited claim sentences / claim sentences, over answerable questions.
        public var citationCoverage: Double?
        /// Citations of an evidence document / citations, over answerable questions.
        public var citationPrecision: Double?
        public var citations: Int
        /// Abstentions / unanswerable questions.
        public var abstention: Double?
        public var unanswerableQuestions: Int
        /// Abstentions / answerable questions (the cost of abstaining too often).
        public var falseAbstention: Double?
        /// Answerable questions whose evidence was among the sources / answerable questions.
        public var evidenceRecall: Double?
        public var medianTimeToFirstToken: Double?
        public var medianTotalSeconds: Double?
        /// Median answer length, tokens.
        public var medianAnswerTokens: Double?
        /// Median and largest time from an answer's last piece to its finished attribution, milliseconds.
        public var medianAttributionMilliseconds: Double?
        public var maxAttributionMilliseconds: Double?
        /// Answers that are only markers, and answers that copy a source's opening sentence.
        public var onlyMarkers = 0
        public var copiedOpenings = 0
        /// The share of prompt tokens served from cached KV blocks (nil when no prompt was counted).
        public var cachedPromptShare: Double?

        enum CodingKeys: String, CodingKey {
            case questions, accuracy, scoredQuestions = "scored_questions", citationCoverage = "citation_coverage"
            case citationPrecision = "citation_precision", citations, abstention
            case unanswerableQuestions = "unanswerable_questions", falseAbstention = "false_abstention"
            case evidenceRecall = "evidence_recall", medianTimeToFirstToken = "median_ttft_s"
            case medianTotalSeconds = "median_total_s", medianAnswerTokens = "median_answer_tokens"
            case medianAttributionMilliseconds = "median_attribution_ms", maxAttributionMilliseconds = "max_attribution_ms"
            case onlyMarkers = "only_markers", copiedOpenings = "copied_openings", cachedPromptShare = "cached_prompt_share"
        }
    }

    public static func summarize(_ observations: [Observation]) -> Summary {
        func ratio(_ part: Int, _ whole: Int) -> Double? { whole == 0 ? nil : Double(part) / Double(whole) }
        let answerable = observations.filter(\.question.answerable)
        let unanswerable = observations.filter { !$0.question.answerable }
        let scored = observations.compactMap(\.correct)
        var citations = 0
        var goldCitations = 0
        for observation in answerable {
            let gold = Set(observation.question.evidence)
            citations += observation.citedDocuments.count
            goldCitations += observation.citedDocuments.filter(gold.contains).count
        }
        return Summary(
            questions: observations.count,
            accuracy: ratio(scored.filter { $0 }.count, scored.count), scoredQuestions: scored.count,
            citationCoverage: ratio(answerable.map(\.citedSentences).reduce(0, +), answerable.map(\.claimSentences).reduce(0, +)),
            citationPrecision: ratio(goldCitations, citations), citations: citations,
            abstention: ratio(unanswerable.filter(\.abstained).count, unanswerable.count),
            unanswerableQuestions: unanswerable.count,
            falseAbstention: ratio(answerable.filter(\.abstained).count, answerable.count),
            evidenceRecall: ratio(answerable.filter(\.evidenceRetrieved).count, answerable.count),
            medianTimeToFirstToken: median(observations.compactMap(\.timeToFirstToken)),
            medianTotalSeconds: median(observations.map(\.totalSeconds)),
            medianAnswerTokens: median(observations.map { Double($0.answerTokens) }),
            medianAttributionMilliseconds: median(observations.compactMap(\.attributionSeconds)).map { $0 * 1000 },
            maxAttributionMilliseconds: observations.compactMap(\.attributionSeconds).max().map { $0 * 1000 },
            onlyMarkers: observations.filter(\.onlyMarkers).count, copiedOpenings: observations.filter(\.copiesOpening).count,
            cachedPromptShare: ratio(observations.map(\.cachedPromptTokens).reduce(0, +), observations.map(\.promptTokens).reduce(0, +)))
    }

    /// Whether `answer` holds nothing but citation markers (`[1]`, `[2][3]`) and punctuation.
    public static func isOnlyMarkers(_ answer: String) -> Bool {
        let text = answer.replacingOccurrences(of: #"\[\^?[0-9 ,]*\]"#, with: "", options: .regularExpression)
        return normalize(text).isEmpty && answer.contains("[")
    }

    /// Whether `answer` (markers aside) is the opening sentence of one of `sources`, or its first
    /// 8 words or more: a copy instead of an answer.
    public static func copiesOpening(_ answer: String, of sources: [String]) -> Bool {
        let text = normalize(answer.replacingOccurrences(of: #"\[\^?[0-9 ,]*\]"#, with: "", options: .regularExpression))
        guard text.split(separator: " ").count >= 4 else { return false }
        for source in sources {
            guard let opening = AnswerSentences.split(source, final: true).sentences.first else { continue }
            let first = normalize(opening.text)
            if first == text { return true }
            let words = text.split(separator: " ")
            if words.count >= 8, first.hasPrefix(text) || text.hasPrefix(first) { return true }
        }
        return false
    }

    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
