import Foundation
import KBStore

/// A search term extracted from user text: a word, or a run of CJK characters matched as a phrase.
public enum QueryTerm: Sendable, Hashable {
    case word(String)
    case ideographs([Unicode.Scalar])
}

/// Turns any user text into an FTS5 MATCH expression that cannot be a syntax error.
///
/// The text is split the way the index was built (letters and digits form words; every CJK
/// character is a token), so FTS5 operators and punctuation in the input (`"AND (`, `NEAR/`, `*`,
/// `:`) are just separators. Each word is quoted; each CJK run becomes a phrase of its characters.
/// Terms are OR-ed and ranked by BM25; common English words are dropped when other terms remain.
/// At most ``maxTerms`` distinct terms are kept (the first ones), so no text makes a query of
/// unbounded cost.
public enum QueryTerms {
    /// The most distinct terms one query searches for.
    public static let maxTerms = 64

    /// The distinct terms of `text`, in order of first appearance, at most ``maxTerms``.
    /// - Complexity: O(n) in the length of the text.
    public static func parse(_ text: String) -> [QueryTerm] {
        var terms: [QueryTerm] = []
        var word = String.UnicodeScalarView()
        var run: [Unicode.Scalar] = []
        func flushWord() {
            if !word.isEmpty { terms.append(.word(String(word).lowercased())); word = String.UnicodeScalarView() }
        }
        func flushRun() {
            if !run.isEmpty { terms.append(.ideographs(run)); run = [] }
        }
        for scalar in text.unicodeScalars {
            if FullTextSegmenter.isIdeographic(scalar) {
                flushWord()
                run.append(scalar)
            } else if isWordScalar(scalar) {
                flushRun()
                word.append(scalar)
            } else {
                flushWord()
                flushRun()
            }
        }
        flushWord()
        flushRun()
        var unique: [QueryTerm] = []
        var seen = Set<QueryTerm>()
        for term in terms where unique.count < maxTerms && seen.insert(term).inserted { unique.append(term) }
        let content = unique.filter { term in
            if case .word(let w) = term { return !Stopwords.english.contains(w) }
            return true
        }
        return content.isEmpty ? unique : content
    }

    /// The FTS5 expression for `terms`, or nil when there is nothing to search for. With `common`
    /// words given, a match must contain a term that is not common, and every term still scores:
    /// `(rare…) AND (all…)`.
    public static func matchExpression(_ terms: [QueryTerm], common: Set<String> = []) -> String? {
        guard !terms.isEmpty else { return nil }
        let all = terms.map(quoted).joined(separator: " OR ")
        let rare = terms.filter { term in
            if case .word(let word) = term { return !common.contains(word) }
            return true
        }
        guard !rare.isEmpty, rare.count < terms.count else { return all }
        return "(" + rare.map(quoted).joined(separator: " OR ") + ") AND (" + all + ")"
    }

    /// The FTS5 expression of one term: a quoted word, or a quoted phrase of CJK characters.
    static func quoted(_ term: QueryTerm) -> String {
        switch term {
        case .word(let word):
            return "\"" + word.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        case .ideographs(let scalars):
            return "\"" + scalars.map { String($0) }.joined(separator: " ") + "\""
        }
    }

    /// Letters, marks and digits: the characters `unicode61` keeps in tokens.
    @inline(__always)
    static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {   // fast path: the Unicode tables are costly per scalar
            let v = scalar.value
            return (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A)
        }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .letterNumber, .otherNumber,
             .privateUse:
            return true
        default:
            return false
        }
    }
}

/// Words too common to help ranking; dropped from queries that have other words.
enum Stopwords {
    static let english: Set<String> = [
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "how", "i", "if", "in", "into",
        "is", "it", "its", "of", "on", "or", "that", "the", "their", "then", "there", "these", "this", "to",
        "was", "what", "when", "where", "which", "who", "why", "will", "with", "do", "does", "can", "you",
        "your", "we", "our", "they", "them", "he", "she", "his", "her", "not", "no", "so", "such", "than",
        "too", "very", "been", "being", "have", "has", "had", "were", "would", "should", "could", "about",
    ]
}
