/// One sentence of an answer: where it is in the answer text (Unicode scalar offsets), its text
/// without markers, and the markers the model wrote in it (in order, deduplicated; numbers as
/// written, even invalid ones).
///
/// `start..<end` covers the sentence from its first character (after a list bullet such as `- ` or
/// `2. `) through its closing punctuation and the markers that belong to it (`… end. [2]`).
/// A fenced code block is one unit whose `text` is the block itself, fences included, with no
/// markers parsed inside it.
public struct AnswerSentence: Sendable, Equatable {
    public var start: Int
    public var end: Int
    public var text: String
    public var markers: [Int]

    public init(start: Int, end: Int, text: String, markers: [Int]) {
        self.start = start
        self.end = end
        self.text = text
        self.markers = markers
    }

    /// True for a fenced code block (```), which is one unit and makes no claim to verify.
    public var isCode: Bool { text.hasPrefix("```") }
}

/// Splits answer text into sentences as it streams.
///
/// A sentence ends at `.`, `!` or `?` followed by white space, a marker or the end (closing quotes,
/// brackets and `*` may sit in between); at `。`, `！`, `？` with nothing needed after them; and at
/// every newline (answers are not hard-wrapped, so a line is a list item, a heading or a paragraph).
/// A `.` does not end a sentence in a decimal, version, file name or URL (nothing but a letter or
/// digit follows it), after an abbreviation (`e.g.`, `i.e.`, `Mr.`, `U.S.`, a single initial), or
/// when the next word starts in lower case. Markers are `[n]`, `[n][m]`, `[n, m]`; those right
/// after the closing punctuation belong to the sentence before it. Inside inline code (`` `…` ``)
/// nothing ends a sentence and nothing is a marker.
///
/// Streaming: a sentence is complete only once the character after it (past spaces and markers)
/// has arrived, so a later call with a longer text never changes it.
public enum AnswerSentences {
    /// Complete sentences of `text` and the offset where the unfinished rest begins (streaming: call
    /// again as text grows; sentences before `consumed` never change). With `final: true` the
    /// trailing rest is a sentence too.
    /// - Complexity: O(n) in the length of the text.
    public static func split(_ text: String, final: Bool) -> (sentences: [AnswerSentence], consumed: Int) {
        split(text, from: 0, final: final)
    }

    /// As ``split(_:final:)``, starting at `from` (a `consumed` of an earlier call on a prefix of
    /// `text`), so a stream need not rescan the sentences it already has.
    public static func split(_ text: String, from: Int, final: Bool) -> (sentences: [AnswerSentence], consumed: Int) {
        let scalars = Array(text.unicodeScalars)
        let scan = SentenceScanner(scalars: scalars, mode: .answer, final: final)
        let (units, consumed) = scan.units(from: min(max(0, from), scalars.count))
        let sentences = units.map { unit in
            AnswerSentence(start: unit.start, end: unit.end, text: unit.text(in: scalars), markers: unit.markers)
        }
        return (sentences, consumed)
    }
}

/// One sentence found by ``SentenceScanner``: its range and the marker ranges inside it.
struct SentenceUnit {
    var start: Int
    var end: Int
    var markers: [Int] = []
    /// Marker ranges, each with the spaces just before it, left out of the text.
    var cuts: [Range<Int>] = []
    var isCode = false

    func text(in scalars: [Unicode.Scalar]) -> String {
        var out = String.UnicodeScalarView()
        var index = start
        for cut in cuts {
            out.append(contentsOf: scalars[index..<cut.lowerBound])
            index = cut.upperBound
        }
        out.append(contentsOf: scalars[index..<end])
        var result = String(out)
        while let last = result.unicodeScalars.last, last.properties.isWhitespace { result.unicodeScalars.removeLast() }
        return result
    }
}

/// The sentence splitter shared by answers and sources.
///
/// `.answer`: every newline ends a sentence and `[n]` markers are parsed. `.source`: document text
/// is often hard-wrapped (Debian descriptions, reflowed docs), so a single newline is a space; a
/// blank line, or a line that starts a list item, heading or code fence, ends a sentence; brackets
/// are text.
struct SentenceScanner {
    enum Mode { case answer, source }

    let scalars: [Unicode.Scalar]
    let mode: Mode
    let final: Bool

    /// Result of reading ahead: found, not there, or the text ended before it could be decided.
    enum Lookahead<T> { case found(T), absent, undecided }

    /// The complete sentences from `from`, and where the unfinished rest begins.
    func units(from: Int) -> ([SentenceUnit], Int) {
        let n = scalars.count
        var units: [SentenceUnit] = []
        var index = from
        while true {
            while index < n, scalars[index].properties.isWhitespace { index += 1 }
            if index == n { return (units, n) }
            guard let (unit, next) = sentence(at: index) else { return (units, index) }
            if unit.end > unit.start { units.append(unit) }
            index = next
        }
    }

    /// The sentence starting at `start` (not white space) and where scanning continues, or nil when
    /// it is not complete yet.
    private func sentence(at start: Int) -> (SentenceUnit, Int)? {
        let n = scalars.count
        if isLineStart(start), hasFence(at: start) { return codeBlock(at: start) }
        var unit = SentenceUnit(start: start, end: start)
        if isLineStart(start) {
            switch bulletEnd(at: start) {
            case .found(let contentStart):
                unit.start = contentStart
            case .undecided:
                return final ? finish(&unit, at: n) : nil
            case .absent:
                break
            }
        }
        var inlineCode = false
        var cursor = unit.start
        while cursor < n {
            let scalar = scalars[cursor]
            if scalar == "\n" {
                switch mode {
                case .answer:
                    return (finish(&unit, at: cursor).0, cursor + 1)
                case .source:
                    switch paragraphBreak(after: cursor) {
                    case .found: return (finish(&unit, at: cursor).0, cursor + 1)
                    case .undecided: return final ? finish(&unit, at: n) : nil
                    case .absent: break
                    }
                }
            } else if scalar == "`" {
                inlineCode.toggle()
            } else if !inlineCode, mode == .answer, scalar == "[" {
                switch marker(at: cursor) {
                case .found(let (numbers, end)):
                    unit.cuts.append(spacesBefore(cursor, floor: unit.start)..<end)
                    for number in numbers where !unit.markers.contains(number) { unit.markers.append(number) }
                    cursor = end
                    continue
                case .undecided:
                    return final ? finish(&unit, at: n) : nil
                case .absent:
                    break
                }
            } else if !inlineCode, Self.isTerminal(scalar) {
                switch boundary(at: cursor, sentenceStart: unit.start) {
                case .found(let end):
                    var after = end
                    if mode == .answer {
                        switch trailingMarkers(from: end, into: &unit) {
                        case .found(let markersEnd): after = markersEnd
                        case .undecided: return final ? finish(&unit, at: n) : nil
                        case .absent: break
                        }
                    }
                    unit.end = after
                    return (trimmed(unit), after)
                case .undecided:
                    return final ? finish(&unit, at: n) : nil
                case .absent:
                    break
                }
            }
            cursor += 1
        }
        return final ? finish(&unit, at: n) : nil
    }

    private func finish(_ unit: inout SentenceUnit, at end: Int) -> (SentenceUnit, Int) {
        unit.end = end
        return (trimmed(unit), end)
    }

    private func trimmed(_ unit: SentenceUnit) -> SentenceUnit {
        var unit = unit
        while unit.end > unit.start, scalars[unit.end - 1].properties.isWhitespace { unit.end -= 1 }
        unit.cuts = unit.cuts.filter { $0.lowerBound < unit.end }
        return unit
    }

    /// Whether the terminal at `index` ends the sentence; found gives the end past closers.
    private func boundary(at index: Int, sentenceStart: Int) -> Lookahead<Int> {
        let n = scalars.count
        var end = index + 1
        while end < n, Self.isTerminal(scalars[end]) || Self.isCloser(scalars[end]) { end += 1 }
        if Self.isWideTerminal(scalars[index]) { return .found(end) }
        if end == n { return final ? .found(end) : .undecided }
        let next = scalars[end]
        guard next.properties.isWhitespace || (mode == .answer && next == "[") else { return .absent }
        guard scalars[index] == "." else { return .found(end) }
        if isAbbreviation(endingAt: index, sentenceStart: sentenceStart) { return .absent }
        // A lower-case word next continues the sentence ("etc. and", "approx. the").
        switch nextSignificant(from: end) {
        case .found(let scalar): return scalar.properties.isLowercase ? .absent : .found(end)
        case .undecided: return .undecided
        case .absent: return .found(end)
        }
    }

    /// The first scalar after `from` that is not a space, tab or (in answers) a marker; absent at a
    /// newline or the end of a final text.
    private func nextSignificant(from: Int) -> Lookahead<Unicode.Scalar> {
        let n = scalars.count
        var index = from
        while index < n {
            let scalar = scalars[index]
            if scalar == "\n", mode == .answer { return .absent }
            if scalar.properties.isWhitespace { index += 1; continue }
            if mode == .answer, scalar == "[" {
                switch marker(at: index) {
                case .found(let (_, end)): index = end; continue
                case .undecided: return .undecided
                case .absent: return .found(scalar)
                }
            }
            return .found(scalar)
        }
        return final ? .absent : .undecided
    }

    /// Markers after a sentence's closing punctuation (`… end. [2][3]`): found gives their end.
    private func trailingMarkers(from: Int, into unit: inout SentenceUnit) -> Lookahead<Int> {
        let n = scalars.count
        var index = from
        var end: Int?
        var found: [(numbers: [Int], range: Range<Int>)] = []
        scan: while true {
            var probe = index
            while probe < n, scalars[probe] == " " || scalars[probe] == "\t" { probe += 1 }
            if probe == n {
                if !final { return .undecided }
                break scan
            }
            guard scalars[probe] == "[" else { break scan }
            switch marker(at: probe) {
            case .found(let (numbers, markerEnd)):
                found.append((numbers, index..<markerEnd))
                index = markerEnd
                end = markerEnd
            case .undecided:
                return .undecided
            case .absent:
                break scan
            }
        }
        guard let end else { return .absent }
        for (numbers, range) in found {
            unit.cuts.append(range)
            for number in numbers where !unit.markers.contains(number) { unit.markers.append(number) }
        }
        return .found(end)
    }

    /// A marker `[1]`, `[1, 3]`, `[1,3]` at `index` (a `[`): its numbers and its end.
    func marker(at index: Int) -> Lookahead<([Int], Int)> {
        let n = scalars.count
        var numbers: [Int] = []
        var digits = 0
        var value = 0
        var cursor = index + 1
        while cursor < n {
            let scalar = scalars[cursor]
            if let digit = Self.asciiDigit(scalar) {
                digits += 1
                if digits > 6 { return .absent }
                value = value * 10 + digit
            } else if scalar == "," || scalar == " " {
                if digits > 0 { numbers.append(value) }
                digits = 0
                value = 0
            } else if scalar == "]" {
                if digits > 0 { numbers.append(value) }
                return numbers.isEmpty ? .absent : .found((numbers, cursor + 1))
            } else {
                return .absent
            }
            cursor += 1
        }
        return final ? .absent : .undecided
    }

    /// The start of the spaces just before `index`, not before `floor`.
    private func spacesBefore(_ index: Int, floor: Int) -> Int {
        var start = index
        while start > floor, scalars[start - 1] == " " || scalars[start - 1] == "\t" { start -= 1 }
        return start
    }

    // MARK: Lines

    /// True when only spaces or tabs stand between the previous newline (or the start) and `index`.
    private func isLineStart(_ index: Int) -> Bool {
        var i = index
        while i > 0, scalars[i - 1] == " " || scalars[i - 1] == "\t" { i -= 1 }
        return i == 0 || scalars[i - 1] == "\n"
    }

    private func hasFence(at index: Int) -> Bool {
        index + 3 <= scalars.count && scalars[index] == "`" && scalars[index + 1] == "`" && scalars[index + 2] == "`"
    }

    /// A fenced code block from `start` through its closing fence: one unit, no markers.
    private func codeBlock(at start: Int) -> (SentenceUnit, Int)? {
        let n = scalars.count
        var cursor = start + 3
        while cursor < n, scalars[cursor] != "\n" { cursor += 1 }
        while cursor < n {
            cursor += 1   // past the newline
            var lineStart = cursor
            while lineStart < n, scalars[lineStart] == " " || scalars[lineStart] == "\t" { lineStart += 1 }
            if hasFence(at: lineStart) {
                var end = lineStart
                while end < n, scalars[end] == "`" { end += 1 }
                if end == n && !final { return nil }   // a fence of more backticks may still be arriving
                return (SentenceUnit(start: start, end: end, isCode: true), end)
            }
            while cursor < n, scalars[cursor] != "\n" { cursor += 1 }
        }
        guard final else { return nil }
        return (trimmed(SentenceUnit(start: start, end: n, isCode: true)), n)
    }

    /// After a list bullet (`- `, `* `, `+ `, `• `, `12. `, `3) `) at `index`: where the content
    /// starts.
    private func bulletEnd(at index: Int) -> Lookahead<Int> {
        let n = scalars.count
        var cursor = index
        if ["-", "*", "+", "•"].contains(scalars[index]) {
            cursor += 1
        } else {
            while cursor < n, Self.asciiDigit(scalars[cursor]) != nil, cursor - index < 3 { cursor += 1 }
            guard cursor > index else { return .absent }
            if cursor == n { return .undecided }
            guard scalars[cursor] == "." || scalars[cursor] == ")" else { return .absent }
            cursor += 1
        }
        if cursor == n { return .undecided }
        guard scalars[cursor] == " " || scalars[cursor] == "\t" else { return .absent }
        while cursor < n, scalars[cursor] == " " || scalars[cursor] == "\t" { cursor += 1 }
        return cursor == n ? .undecided : .found(cursor)
    }

    /// In a source, whether the newline at `index` ends a paragraph: a blank line follows, or a line
    /// that starts a list item, a heading or a code fence.
    private func paragraphBreak(after index: Int) -> Lookahead<Void> {
        let n = scalars.count
        var cursor = index + 1
        while cursor < n, scalars[cursor] == " " || scalars[cursor] == "\t" { cursor += 1 }
        if cursor == n { return final ? .found(()) : .undecided }
        if scalars[cursor] == "\n" || scalars[cursor] == "#" || hasFence(at: cursor) { return .found(()) }
        switch bulletEnd(at: cursor) {
        case .found: return .found(())
        case .undecided: return final ? .absent : .undecided
        case .absent: return .absent
        }
    }

    // MARK: Characters

    /// The word before the `.` at `index` is an abbreviation: a known one, a single capital
    /// (an initial), or letters with inner dots (`e.g`, `U.S`, `a.m`).
    private func isAbbreviation(endingAt index: Int, sentenceStart: Int) -> Bool {
        var start = index
        while start > sentenceStart, scalars[start - 1].properties.isAlphabetic || scalars[start - 1] == "." { start -= 1 }
        guard start < index else { return false }
        let word = String(String.UnicodeScalarView(scalars[start..<index]))
        if word.count == 1, let first = word.unicodeScalars.first, first.properties.isUppercase { return true }
        if word.contains(".") {
            return word.split(separator: ".").allSatisfy { $0.count <= 2 }
        }
        return Self.abbreviations.contains(word.lowercased())
    }

    static let abbreviations: Set<String> = [
        "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "cf", "fig", "approx", "al", "ca", "resp",
    ]

    static func isTerminal(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case ".", "!", "?", "。", "！", "？": return true
        default: return false
        }
    }

    static func isWideTerminal(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "。", "！", "？": return true
        default: return false
        }
    }

    static func isCloser(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "\"", "'", ")", "”", "’", "」", "』", "）", "】", "》", "*", "_": return true
        default: return false
        }
    }

    @inline(__always)
    static func asciiDigit(_ scalar: Unicode.Scalar) -> Int? {
        let v = scalar.value
        return v >= 0x30 && v <= 0x39 ? Int(v - 0x30) : nil
    }
}
