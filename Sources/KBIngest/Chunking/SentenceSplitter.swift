/// A span of a document that the chunker packs: usually a sentence.
struct TextUnit: Equatable {
    /// Unicode scalar range in the document text, without surrounding whitespace.
    var start: Int
    var end: Int
    /// True when the unit begins a paragraph (after a blank line or a section start).
    var startsParagraph: Bool
}

/// Splits a range of text into sentences, marking paragraph starts. Sentence ends are `.`, `!`, `?`
/// followed by whitespace, and the Chinese and full-width marks `。！？；` (and `！？` half/full
/// width) with or without whitespace; closing quotes and brackets stay with their sentence.
enum SentenceSplitter {
    static func split(_ scalars: [Unicode.Scalar], range: Range<Int>) -> [TextUnit] {
        var units: [TextUnit] = []
        var index = range.lowerBound
        var paragraphStart = true
        while index < range.upperBound {
            // Skip whitespace, noting blank lines.
            var newlines = 0
            while index < range.upperBound, scalars[index].properties.isWhitespace {
                if scalars[index] == "\n" { newlines += 1 }
                index += 1
            }
            if newlines >= 2 { paragraphStart = true }
            guard index < range.upperBound else { break }
            let start = index
            var end = range.upperBound
            var cursor = index
            while cursor < range.upperBound {
                let scalar = scalars[cursor]
                if scalar == "\n", cursor + 1 < range.upperBound, isBlankLineAhead(scalars, from: cursor + 1, limit: range.upperBound) {
                    end = cursor
                    break
                }
                if isTerminal(scalar) {
                    var after = cursor + 1
                    while after < range.upperBound, isCloser(scalars[after]) { after += 1 }
                    if isWideTerminal(scalar) || after == range.upperBound || scalars[after].properties.isWhitespace {
                        end = after
                        break
                    }
                }
                cursor += 1
            }
            var trimmedEnd = end
            while trimmedEnd > start, scalars[trimmedEnd - 1].properties.isWhitespace { trimmedEnd -= 1 }
            if trimmedEnd > start {
                units.append(TextUnit(start: start, end: trimmedEnd, startsParagraph: paragraphStart))
                paragraphStart = false
            }
            index = end
        }
        return units
    }

    /// After a newline at `from - 1`: only spaces or tabs, then another newline.
    private static func isBlankLineAhead(_ scalars: [Unicode.Scalar], from: Int, limit: Int) -> Bool {
        var i = from
        while i < limit, scalars[i] == " " || scalars[i] == "\t" { i += 1 }
        return i < limit && scalars[i] == "\n"
    }

    private static func isTerminal(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case ".", "!", "?", "。", "！", "？", "；", "｡": return true
        default: return false
        }
    }

    private static func isWideTerminal(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "。", "！", "？", "；", "｡": return true
        default: return false
        }
    }

    private static func isCloser(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "\"", "'", ")", "]", "}", "”", "’", "」", "』", "）", "】", "》", "〉": return true
        default: return false
        }
    }
}
