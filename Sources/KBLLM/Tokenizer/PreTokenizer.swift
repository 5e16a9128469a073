/// The pre-tokenizers of byte-level BPE vocabularies: they cut text into words before BPE merges
/// run inside each word. Chosen by the GGUF key `tokenizer.ggml.pre`.
///
/// Each is written by hand over Unicode scalars, step for step as llama.cpp's hand-written
/// versions of the same regexes (`unicode_regex_split_custom_*`), instead of through a regex engine:
/// Foundation's regex on Linux is slow and the results must match llama.cpp exactly.
public enum PreTokenizer: String, Sendable, CaseIterable {
    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    case gpt2
    /// Llama 3 (`llama-bpe`): `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
    /// ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
    case llama3
    /// Qwen2: as Llama 3 but with single digits (`\p{N}` instead of `\p{N}{1,3}`).
    case qwen2
    /// SmolLM: every digit on its own (`\p{N}`), then GPT-2 on the rest.
    case smollm

    /// The pre-tokenizer for a `tokenizer.ggml.pre` value, as llama.cpp maps them; `nil` if unknown.
    public init?(ggmlName: String) {
        switch ggmlName {
        case "gpt-2", "gpt2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de": self = .gpt2
        case "llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral": self = .llama3
        case "qwen2", "deepseek-r1-qwen": self = .qwen2
        case "smollm": self = .smollm
        default: return nil
        }
    }

    /// Whether a word that is itself a token skips the merges (`ignore_merges` in llama.cpp and
    /// Hugging Face `tokenizers`): true for Llama 3.
    public var ignoresMerges: Bool { self == .llama3 }

    /// Cuts `scalars` into words: consecutive, non-empty ranges that cover it.
    /// - Complexity: O(n) in the number of scalars.
    public func split(_ scalars: [Unicode.Scalar]) -> [Range<Int>] {
        let text = ClassifiedText(scalars)
        var words: [Range<Int>] = []
        switch self {
        case .gpt2:
            text.splitGPT2(0..<scalars.count, into: &words)
        case .llama3:
            text.splitLlama3(0..<scalars.count, maxDigits: 3, into: &words)
        case .qwen2:
            text.splitLlama3(0..<scalars.count, maxDigits: 1, into: &words)
        case .smollm:
            var start = 0
            for index in scalars.indices where text.classes[index].contains(.number) {
                text.splitGPT2(start..<index, into: &words)
                words.append(index..<index + 1)
                start = index + 1
            }
            text.splitGPT2(start..<scalars.count, into: &words)
        }
        return words
    }
}

/// Scalars with their classes, and the splitting state machines.
private struct ClassifiedText {
    let scalars: [Unicode.Scalar]
    let classes: [ScalarClass]

    init(_ scalars: [Unicode.Scalar]) {
        self.scalars = scalars
        classes = scalars.map(ScalarClass.init)
    }

    /// Walks one segment; positions outside it read as "no scalar" (the regex's end of input).
    struct Segment {
        let text: ClassifiedText
        let range: Range<Int>
        var wordStart: Int

        init(_ text: ClassifiedText, _ range: Range<Int>) {
            self.text = text
            self.range = range
            wordStart = range.lowerBound
        }

        /// The scalar value at `position`, or `nil` past the segment.
        func scalar(_ position: Int) -> UInt32? {
            range.contains(position) ? text.scalars[position].value : nil
        }

        /// The classes at `position`, and whether there is a scalar there at all.
        func classes(_ position: Int) -> (ScalarClass, inRange: Bool) {
            range.contains(position) ? (text.classes[position], true) : ([], false)
        }

        /// Ends the current word at `end` (if it is not empty) and returns its length.
        @discardableResult
        mutating func endWord(at end: Int, into words: inout [Range<Int>]) -> Int {
            let length = end - wordStart
            if length > 0 { words.append(wordStart..<end) }
            wordStart = end
            return length
        }

        /// The length of a contraction (`'s`, `'t`, `'re`, `'ve`, `'m`, `'ll`, `'d`) at `position`, or 0.
        func contraction(at position: Int, caseInsensitive: Bool) -> Int {
            guard scalar(position) == 0x27, position + 1 < range.upperBound else { return 0 }  // '
            func letter(_ offset: Int) -> UInt32? {
                guard let value = scalar(position + offset) else { return nil }
                return caseInsensitive && (0x41...0x5A).contains(value) ? value + 0x20 : value
            }
            switch letter(1) {
            case 0x73, 0x74, 0x6D, 0x64: return 2  // s t m d
            default: break
            }
            guard position + 2 < range.upperBound else { return 0 }
            switch (letter(1), letter(2)) {
            case (0x72, 0x65), (0x76, 0x65), (0x6C, 0x6C): return 3  // re ve ll
            default: return 0
            }
        }

        /// `\s+(?!\S)|\s+` at `position`, after `\s*[\r\n]+` when `newlines` (Llama 3, Qwen2); a lone
        /// scalar that nothing else matched becomes a word of its own. Returns the position after the word.
        mutating func whitespace(at position: Int, newlines: Bool, into words: inout [Range<Int>]) -> Int {
            var count = 0
            var newlineEnd: Int?
            while classes(position + count).0.contains(.whitespace) {
                if let value = scalar(position + count), value == ClassifiedText.cr || value == ClassifiedText.lf {
                    newlineEnd = position + count + 1
                }
                count += 1
            }
            let end: Int
            if newlines, let newlineEnd {
                end = newlineEnd  // `\s*[\r\n]+`: up to the last newline of the run
            } else if count > 1, scalar(position + count) != nil {
                end = position + count - 1  // `\s+(?!\S)`: leave the last space to the next word
            } else if count > 0 {
                end = position + count  // `\s+`
            } else {
                end = position + 1  // no pattern matches: one scalar alone
            }
            endWord(at: end, into: &words)
            return end
        }
    }

    static let space: UInt32 = 0x20, cr: UInt32 = 0x0D, lf: UInt32 = 0x0A

    /// GPT-2's pattern over one segment (llama.cpp `unicode_regex_split_custom_gpt2`).
    func splitGPT2(_ range: Range<Int>, into words: inout [Range<Int>]) {
        var segment = Segment(self, range)
        var position = range.lowerBound
        while position < range.upperBound {
            let contraction = segment.contraction(at: position, caseInsensitive: false)
            if contraction > 0 {
                position += segment.endWord(at: position + contraction, into: &words)
                continue
            }
            let leadingSpace = segment.scalar(position) == Self.space ? 1 : 0
            var (next, inRange) = segment.classes(position + leadingSpace)
            // ` ?\p{L}+` or ` ?\p{N}+`
            if next.contains(.letter) || next.contains(.number) {
                let run: ScalarClass = next.contains(.letter) ? .letter : .number
                position += leadingSpace
                while next.contains(run) {
                    position += 1
                    next = segment.classes(position).0
                }
                segment.endWord(at: position, into: &words)
                continue
            }
            // ` ?[^\s\p{L}\p{N}]+`
            if next.isDisjoint(with: [.whitespace, .letter, .number]) && inRange {
                position += leadingSpace
                while next.isDisjoint(with: [.whitespace, .letter, .number]) && inRange {
                    position += 1
                    (next, inRange) = segment.classes(position)
                }
                segment.endWord(at: position, into: &words)
                continue
            }
            position = segment.whitespace(at: position, newlines: false, into: &words)
        }
    }

    /// Llama 3's pattern over one segment, numbers in runs of at most `maxDigits` (3 for Llama 3,
    /// 1 for Qwen2); llama.cpp `unicode_regex_split_custom_llama3` and `_qwen2`.
    func splitLlama3(_ range: Range<Int>, maxDigits: Int, into words: inout [Range<Int>]) {
        var segment = Segment(self, range)
        var position = range.lowerBound
        while position < range.upperBound {
            let contraction = segment.contraction(at: position, caseInsensitive: true)
            if contraction > 0 {
                position += segment.endWord(at: position + contraction, into: &words)
                continue
            }
            let scalar = segment.scalar(position)
            let current = classes[position]
            // `[^\r\n\p{L}\p{N}]?\p{L}+`
            if scalar != Self.cr, scalar != Self.lf, !current.contains(.number),
                current.contains(.letter) || segment.classes(position + 1).0.contains(.letter)
            {
                position += 1
                while segment.classes(position).0.contains(.letter) { position += 1 }
                segment.endWord(at: position, into: &words)
                continue
            }
            // `\p{N}{1,maxDigits}`
            if current.contains(.number) {
                var runStart = position
                while segment.classes(position).0.contains(.number) {
                    position += 1
                    if position - runStart >= maxDigits {
                        segment.endWord(at: position, into: &words)
                        runStart = position
                    }
                }
                segment.endWord(at: position, into: &words)
                continue
            }
            // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
            let leadingSpace = scalar == Self.space ? 1 : 0
            var (next, inRange) = segment.classes(position + leadingSpace)
            if next.isDisjoint(with: [.whitespace, .letter, .number]) {
                position += leadingSpace
                while next.isDisjoint(with: [.whitespace, .letter, .number]) && inRange {
                    position += 1
                    (next, inRange) = segment.classes(position)
                }
                while let value = segment.scalar(position), value == Self.cr || value == Self.lf { position += 1 }
                segment.endWord(at: position, into: &words)
                continue
            }
            position = segment.whitespace(at: position, newlines: true, into: &words)
        }
    }
}
