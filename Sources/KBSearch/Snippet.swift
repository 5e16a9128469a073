import Foundation
import KBStore

/// A short excerpt of a chunk around the query's matches, with the matched spans marked.
public struct Snippet: Sendable, Equatable, Codable {
    /// The excerpt; "…" marks text cut at either end.
    public var text: String
    /// Matched spans as Unicode scalar offsets into `text`, `start..<end`, in order.
    public var highlights: [HighlightSpan]

    /// Builds the excerpt of at most `maxScalars` scalars that holds the most distinct matches.
    public static func make(text: String, terms: [QueryTerm], maxScalars: Int = 240) -> Snippet {
        let scalars = Array(text.unicodeScalars)
        let matches = TermMatcher(terms: terms).matches(in: scalars)
        var windowStart = 0
        if scalars.count > maxScalars, let first = matches.first {
            // Slide a window over the matches; keep the one that covers the most distinct terms.
            var best = (covered: 0, start: first.range.lowerBound)
            for (i, match) in matches.enumerated() {
                var covered = Set<Int>()
                for other in matches[i...] where other.range.upperBound <= match.range.lowerBound + maxScalars {
                    covered.insert(other.term)
                }
                if covered.count > best.covered { best = (covered.count, match.range.lowerBound) }
            }
            // Start a little before the first match, at a word boundary.
            windowStart = max(0, min(best.start - maxScalars / 5, scalars.count - maxScalars))
            while windowStart > 0, windowStart < best.start, !scalars[windowStart - 1].properties.isWhitespace {
                windowStart += 1
            }
        }
        var windowEnd = min(scalars.count, windowStart + maxScalars)
        if windowEnd < scalars.count {
            var cut = windowEnd
            while cut > windowStart + maxScalars / 2, !scalars[cut].properties.isWhitespace { cut -= 1 }
            windowEnd = cut
        }
        var out = String.UnicodeScalarView()
        var shift = windowStart
        if windowStart > 0 { out.append("…"); shift -= 1 }
        for scalar in scalars[windowStart..<windowEnd] {
            out.append(scalar.properties.isWhitespace ? " " : scalar)
        }
        if windowEnd < scalars.count { out.append("…") }
        let highlights = matches
            .filter { $0.range.lowerBound >= windowStart && $0.range.upperBound <= windowEnd }
            .map { HighlightSpan(start: $0.range.lowerBound - shift, end: $0.range.upperBound - shift) }
        return Snippet(text: String(out), highlights: highlights)
    }
}

/// A highlighted span: Unicode scalar offsets `start..<end`.
public struct HighlightSpan: Sendable, Equatable, Codable {
    public var start: Int
    public var end: Int
}

/// Finds where query terms occur in text, approximating the index's matching: case and diacritics
/// are ignored and words are compared by a light suffix-stripping stem (the index uses Porter).
struct TermMatcher {
    struct Match {
        var range: Range<Int>
        var term: Int
    }

    private var wordStems: [String: Int] = [:]
    private var phrases: [(scalars: [Unicode.Scalar], term: Int)] = []

    init(terms: [QueryTerm]) {
        for (index, term) in terms.enumerated() {
            switch term {
            case .word(let word): wordStems[Self.stem(Self.fold(word))] = index
            case .ideographs(let scalars): phrases.append((scalars, index))
            }
        }
    }

    func matches(in scalars: [Unicode.Scalar]) -> [Match] {
        var found: [Match] = []
        var i = 0
        while i < scalars.count {
            if QueryTerms.isWordScalar(scalars[i]) && !FullTextSegmenter.isIdeographic(scalars[i]) {
                var end = i
                while end < scalars.count, QueryTerms.isWordScalar(scalars[end]),
                      !FullTextSegmenter.isIdeographic(scalars[end]) { end += 1 }
                if !wordStems.isEmpty {
                    let word = Self.fold(String(String.UnicodeScalarView(scalars[i..<end])))
                    if let term = wordStems[Self.stem(word)] { found.append(Match(range: i..<end, term: term)) }
                }
                i = end
                continue
            }
            if FullTextSegmenter.isIdeographic(scalars[i]) {
                for phrase in phrases where i + phrase.scalars.count <= scalars.count
                    && scalars[i..<(i + phrase.scalars.count)].elementsEqual(phrase.scalars) {
                    found.append(Match(range: i..<(i + phrase.scalars.count), term: phrase.term))
                    i += phrase.scalars.count - 1
                    break
                }
            }
            i += 1
        }
        return found
    }

    static func fold(_ word: String) -> String {
        if word.utf8.allSatisfy({ $0 < 0x80 }) { return word.lowercased() }   // fast path
        return word.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil).lowercased()
    }

    private static let suffixes = ["ational", "ations", "ation", "ements", "ement", "ments", "ment", "ness", "ings",
                                   "ing", "edly", "ies", "ied", "ed", "es", "er", "ly", "s"]

    static func stem(_ word: String) -> String {
        for suffix in suffixes where word.hasSuffix(suffix) && word.count - suffix.count >= 3 {
            return String(word.dropLast(suffix.count))
        }
        return word
    }
}
