import KBStore

/// Cuts a parsed document into chunks that fit the embedding model.
///
/// The document is divided into sections at its headings (a chunk never spans two sections, and each
/// carries its heading path), each section into sentences, and sentences are packed greedily up to
/// ``ChunkingOptions/maxTokens``, preferring to end a chunk at a paragraph break. Consecutive chunks of
/// a section share up to ``ChunkingOptions/overlapTokens`` of whole sentences. A sentence longer than
/// the limit is split between words, and a word longer than the limit between characters (windows of
/// at most ``ChunkingOptions/maxTokens`` scalars, narrowed until they count no more tokens), so every
/// chunk fits. Tokens are counted by ``counter``, the embedding model's own tokenizer. Offsets are
/// Unicode scalar offsets into the document text and the chunk text is exactly that span.
public struct Chunker: Sendable {
    public let options: ChunkingOptions
    public let counter: any TokenCounting

    public init(options: ChunkingOptions, counter: any TokenCounting) {
        self.options = options
        self.counter = counter
    }

    /// Identifies everything that changes chunk boundaries; stored in each document's record hash.
    public var signature: String {
        "chunker-1;max=\(options.maxTokens);overlap=\(options.overlapTokens);\(counter.tokenizerName)"
    }

    public func chunk(_ document: ParsedDocument) -> [ChunkInput] {
        let scalars = Array(document.text.unicodeScalars)
        var chunks: [ChunkInput] = []
        for section in sections(of: document, length: scalars.count) {
            let units = SentenceSplitter.split(scalars, range: section.range)
                .flatMap { fit($0, scalars) }
            pack(units, scalars, headingPath: section.headingPath, into: &chunks)
        }
        return chunks
    }

    // MARK: - Sections

    struct Section {
        var range: Range<Int>
        var headingPath: [String]
    }

    func sections(of document: ParsedDocument, length: Int) -> [Section] {
        var result: [Section] = []
        var stack: [Heading] = []
        var start = 0
        var path: [String] = []
        for heading in document.headings where heading.offset >= start && heading.offset <= length {
            if heading.offset > start { result.append(Section(range: start..<heading.offset, headingPath: path)) }
            while let last = stack.last, last.level >= heading.level { stack.removeLast() }
            stack.append(heading)
            path = stack.map(\.title)
            start = heading.offset
        }
        if start < length { result.append(Section(range: start..<length, headingPath: path)) }
        return result
    }

    // MARK: - Units

    struct CountedUnit {
        var unit: TextUnit
        var tokens: Int
    }

    /// The unit with its token count, split further if it exceeds the limit.
    func fit(_ unit: TextUnit, _ scalars: [Unicode.Scalar]) -> [CountedUnit] {
        let tokens = count(scalars, unit.start..<unit.end)
        if tokens <= options.maxTokens { return [CountedUnit(unit: unit, tokens: tokens)] }
        var pieces: [CountedUnit] = []
        var pieceStart = unit.start
        var pieceTokens = 0
        var index = unit.start
        var first = true
        func emit(upTo end: Int, tokens: Int) {
            var trimmed = end
            while trimmed > pieceStart, scalars[trimmed - 1].properties.isWhitespace { trimmed -= 1 }
            guard trimmed > pieceStart else { return }
            pieces.append(CountedUnit(unit: TextUnit(start: pieceStart, end: trimmed, startsParagraph: first && unit.startsParagraph),
                                      tokens: tokens))
            first = false
        }
        while index < unit.end {
            // Next word: a run of non-space scalars, or one ideograph.
            var wordEnd = index
            if FullTextSegmenter.isIdeographic(scalars[index]) {
                wordEnd = index + 1
            } else {
                while wordEnd < unit.end, !scalars[wordEnd].properties.isWhitespace,
                      !FullTextSegmenter.isIdeographic(scalars[wordEnd]) { wordEnd += 1 }
            }
            while wordEnd < unit.end, scalars[wordEnd].properties.isWhitespace { wordEnd += 1 }
            var wordTokens = count(scalars, index..<wordEnd)
            if wordTokens > options.maxTokens {
                // One enormous "word": cut it into windows of maxTokens scalars, fewer where the
                // tokenizer makes more pieces than scalars (SentencePiece's word-start `▁`).
                wordEnd = index + options.maxTokens
                wordTokens = count(scalars, index..<wordEnd)
                while wordTokens > options.maxTokens, wordEnd > index + 1 {
                    wordEnd -= 1
                    wordTokens = count(scalars, index..<wordEnd)
                }
            }
            if pieceTokens + wordTokens > options.maxTokens, pieceTokens > 0 {
                emit(upTo: index, tokens: count(scalars, pieceStart..<index))
                pieceStart = index
                pieceTokens = 0
            }
            pieceTokens += wordTokens
            index = wordEnd
        }
        if pieceStart < unit.end { emit(upTo: unit.end, tokens: count(scalars, pieceStart..<unit.end)) }
        return pieces
    }

    // MARK: - Packing

    func pack(_ units: [CountedUnit], _ scalars: [Unicode.Scalar], headingPath: [String], into chunks: inout [ChunkInput]) {
        guard !units.isEmpty else { return }
        // Tokens from each unit to the end of its paragraph, for the paragraph-break preference.
        var paragraphRemainder = [Int](repeating: 0, count: units.count)
        var running = 0
        for i in stride(from: units.count - 1, through: 0, by: -1) {
            running += units[i].tokens
            paragraphRemainder[i] = running
            if units[i].unit.startsParagraph { running = 0 }
        }
        var first = 0
        while first < units.count {
            var last = first
            var tokens = units[first].tokens
            while last + 1 < units.count {
                let next = units[last + 1]
                if tokens + next.tokens > options.maxTokens { break }
                // At a paragraph break, stop early if the whole next paragraph would not fit and this
                // chunk is already at least half full.
                if next.unit.startsParagraph, tokens * 2 >= options.maxTokens,
                   tokens + paragraphRemainder[last + 1] > options.maxTokens { break }
                last += 1
                tokens += next.tokens
            }
            var end = last
            var chunk = makeChunk(units[first...end], scalars, headingPath: headingPath)
            // Sums of unit counts can differ slightly from the count of the joined text; shrink if needed.
            while chunk.tokenCount > options.maxTokens && end > first {
                end -= 1
                chunk = makeChunk(units[first...end], scalars, headingPath: headingPath)
            }
            chunks.append(chunk)
            if end + 1 >= units.count { break }
            // The next chunk starts with the trailing sentences that fit in the overlap budget.
            var next = end + 1
            var overlap = 0
            while next - 1 > first, overlap + units[next - 1].tokens <= options.overlapTokens {
                overlap += units[next - 1].tokens
                next -= 1
            }
            // Overlap only if the next chunk can still take new text after it.
            if overlap + units[end + 1].tokens > options.maxTokens { next = end + 1 }
            first = next
        }
    }

    private func makeChunk(_ units: ArraySlice<CountedUnit>, _ scalars: [Unicode.Scalar], headingPath: [String]) -> ChunkInput {
        let start = units[units.startIndex].unit.start
        let end = units[units.endIndex - 1].unit.end
        let text = String(String.UnicodeScalarView(scalars[start..<end]))
        return ChunkInput(text: text, startOffset: start, endOffset: end, tokenCount: counter.countTokens(text),
                          headingPath: headingPath)
    }

    private func count(_ scalars: [Unicode.Scalar], _ range: Range<Int>) -> Int {
        counter.countTokens(String(String.UnicodeScalarView(scalars[range])))
    }
}
