import Foundation

/// BERT's text normalization and word splitting, as Hugging Face `tokenizers` does it for
/// all-MiniLM-L6-v2 (`BertNormalizer` with clean_text, handle_chinese_chars, lowercase and
/// accent stripping, then `BertPreTokenizer`).
///
/// The reference works in stages over the whole string: drop control characters and map
/// whitespace to spaces; put spaces around CJK ideographs; NFD; drop nonspacing marks (Mn);
/// lowercase; split on whitespace and punctuation. Before all of that it cuts the literal special
/// tokens (`[CLS]`, `[SEP]`, …) out of the raw text. This type does the same in one pass over the
/// UTF-8 bytes: ASCII, the bulk of English text, is handled byte by byte, and only a word that
/// contains a non-ASCII scalar goes through Foundation's NFD, the one stage that looks at more
/// than one scalar at a time (canonical reordering of combining marks). Every word boundary the
/// fast path creates is a starter, so per-word NFD equals whole-string NFD.
///
/// The reference's character classes come from the `unicode_categories` crate, which is frozen
/// at Unicode 8.0, while its whitespace and lowercasing follow Rust's current tables; see
/// ``BertCharacters``.
struct BertPreTokenizer: Sendable {
    /// One unit handed to the word-piece model.
    enum Word {
        /// A normalized word: lowercased, accent-free UTF-8 with no whitespace, either one
        /// punctuation character or none.
        case text(UnsafeBufferPointer<UInt8>)
        /// A literal special token found verbatim in the raw text; the payload is its id.
        case special(Int32)
    }

    /// Special tokens matched verbatim in the raw text (case-sensitive, before normalization),
    /// with their ids, as the reference treats its `added_tokens`. Each must start with `[`:
    /// the scan only looks for them there.
    let specialTokens: [(bytes: [UInt8], id: Int32)]

    /// Calls `body` with each word of `text` in order, until `body` returns `false`.
    ///
    /// - Parameters:
    ///   - text: Raw input text.
    ///   - body: Receives each word; the buffer is only valid during the call. Return `false`
    ///     to stop early.
    /// - Complexity: O(n) in the UTF-8 length of `text`.
    func forEachWord(in text: String, _ body: (Word) -> Bool) {
        var text = text
        withoutActuallyEscaping(body) { body in
            text.withUTF8 { utf8 in
                var splitter = WordSplitter(specialTokens: specialTokens, body: body)
                splitter.run(utf8)
            }
        }
    }
}

/// The state of one pass of ``BertPreTokenizer/forEachWord(in:_:)``.
private struct WordSplitter {
    let specialTokens: [(bytes: [UInt8], id: Int32)]
    let body: (BertPreTokenizer.Word) -> Bool
    /// The word being built, as cleaned UTF-8 (ASCII already lowercased).
    var word: [UInt8] = []
    /// Whether `word` holds a non-ASCII scalar and so still needs NFD, mark stripping,
    /// lowercasing and punctuation splitting.
    var wordNeedsUnicode = false
    /// Set when `body` asked to stop.
    var stopped = false

    init(specialTokens: [(bytes: [UInt8], id: Int32)], body: @escaping (BertPreTokenizer.Word) -> Bool) {
        self.specialTokens = specialTokens
        self.body = body
        word.reserveCapacity(64)
    }

    mutating func run(_ utf8: UnsafeBufferPointer<UInt8>) {
        let n = utf8.count
        var i = 0
        while i < n && !stopped {
            let byte = utf8[i]
            if byte < 0x80 {
                if BertCharacters.asciiClass(byte) == .keep {
                    // A run of lowercase letters and digits: when it is a whole word, hand it
                    // over in place, without copying.
                    var end = i + 1
                    while end < n && utf8[end] < 0x80 && BertCharacters.asciiClass(utf8[end]) == .keep {
                        end += 1
                    }
                    let run = UnsafeBufferPointer(rebasing: utf8[i..<end])
                    i = end
                    if word.isEmpty && (end == n || BertCharacters.endsWord(utf8[end])) {
                        emit(.text(run))
                    } else {
                        word.append(contentsOf: run)
                    }
                    continue
                }
                i += 1
                switch BertCharacters.asciiClass(byte) {
                case .keep:
                    word.append(byte)
                case .upper:
                    word.append(byte | 0x20)
                case .space:
                    flush()
                case .removed:
                    continue
                case .punctuation:
                    flush()
                    if byte == UInt8(ascii: "["), let (length, id) = specialToken(at: i - 1, in: utf8) {
                        i += length - 1
                        emit(.special(id))
                    } else {
                        emit(.text(UnsafeBufferPointer(rebasing: utf8[(i - 1)..<i])))
                    }
                }
                continue
            }
            // Non-ASCII: the String guarantees valid UTF-8.
            let length = byte < 0xE0 ? 2 : byte < 0xF0 ? 3 : 4
            guard i + length <= n else { break }
            var value = UInt32(byte) & (0x7F >> length)
            for k in 1..<length { value = value << 6 | UInt32(utf8[i + k] & 0x3F) }
            let start = i
            i += length
            guard let scalar = Unicode.Scalar(value) else { continue }
            if BertCharacters.isRemovedByCleaning(scalar) { continue }
            if BertCharacters.isWhitespace(scalar) {
                flush()
            } else if BertCharacters.isCJKIdeograph(value) {
                flush()
                word.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<i]))
                wordNeedsUnicode = true
                flush()
            } else {
                word.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<i]))
                wordNeedsUnicode = true
            }
        }
        flush()
    }

    /// The length and id of the special token that starts at `offset`, if any.
    func specialToken(at offset: Int, in utf8: UnsafeBufferPointer<UInt8>) -> (Int, Int32)? {
        for token in specialTokens where offset + token.bytes.count <= utf8.count {
            var k = 0
            while k < token.bytes.count && utf8[offset + k] == token.bytes[k] { k += 1 }
            if k == token.bytes.count { return (k, token.id) }
        }
        return nil
    }

    mutating func emit(_ unit: BertPreTokenizer.Word) {
        if !stopped && !body(unit) { stopped = true }
    }

    /// Hands `buffer` over as a word, if it is not empty, and clears it.
    mutating func emit(_ buffer: inout [UInt8]) {
        guard !buffer.isEmpty else { return }
        if !stopped {
            let goOn = buffer.withUnsafeBufferPointer { body(.text($0)) }
            if !goOn { stopped = true }
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Hands over the pending word, finishing the Unicode stages first if it needs them.
    mutating func flush() {
        guard !word.isEmpty else { return }
        if wordNeedsUnicode {
            wordNeedsUnicode = false
            let raw = String(decoding: word, as: UTF8.self)
            word.removeAll(keepingCapacity: true)
            finishUnicode(raw)
        } else if !stopped {
            let goOn = word.withUnsafeBufferPointer { body(.text($0)) }
            if !goOn { stopped = true }
            word.removeAll(keepingCapacity: true)
        }
    }

    /// NFD, drop nonspacing marks, lowercase, then split on whitespace and punctuation.
    mutating func finishUnicode(_ raw: String) {
        var out: [UInt8] = []
        out.reserveCapacity(raw.utf8.count + 8)
        for scalar in BertCharacters.referenceNFD(raw).unicodeScalars {
            if scalar.isASCII {
                let byte = UInt8(scalar.value)
                let lowered = BertCharacters.asciiClass(byte) == .upper ? byte | 0x20 : byte
                appendNormalized(Unicode.Scalar(lowered), to: &out)
            } else if !BertCharacters.isStrippedMark(scalar) {
                for lower in scalar.properties.lowercaseMapping.unicodeScalars {
                    appendNormalized(lower, to: &out)
                }
            }
        }
        emit(&out)
    }

    /// Adds one normalized scalar to the word in `out`, splitting on whitespace and punctuation.
    mutating func appendNormalized(_ scalar: Unicode.Scalar, to out: inout [UInt8]) {
        if BertCharacters.isWhitespace(scalar) {
            emit(&out)
        } else if BertCharacters.isPunctuation(scalar) {
            emit(&out)
            UTF8.encode(scalar) { out.append($0) }
            emit(&out)
        } else {
            UTF8.encode(scalar) { out.append($0) }
        }
    }
}

/// Character classes as the reference tokenizer sees them.
///
/// `tokenizers` takes control characters, nonspacing marks and punctuation from the
/// `unicode_categories` crate, whose tables are Unicode 8.0: a scalar assigned later has no
/// category there (it is kept, never stripped, never punctuation), and a few scalars changed
/// category since (``unicode8Category(_:)``). Whitespace (`char::is_whitespace`) and lowercasing
/// use current tables. All of this was checked against `tokenizers` 0.23.3, code point by code
/// point, with Swift 6.3's standard library and Foundation.
enum BertCharacters {
    enum ASCIIClass { case keep, upper, space, punctuation, removed }

    /// Classes of the 128 ASCII bytes: BERT punctuation is 33-47, 58-64, 91-96 and 123-126;
    /// tab, newline and carriage return are whitespace; other C0 controls and DEL are removed.
    /// Only meaningful below 128.
    @inline(__always)
    static func asciiClass(_ byte: UInt8) -> ASCIIClass {
        switch byte {
        case 9, 10, 13, 32: return .space
        case 0..<32, 127: return .removed
        case 33...47, 58...64, 91...96, 123...126: return .punctuation
        case 65...90: return .upper
        default: return .keep
        }
    }

    /// Whether `byte` is ASCII whitespace or punctuation, which end a word.
    @inline(__always)
    static func endsWord(_ byte: UInt8) -> Bool {
        switch asciiClass(byte) {
        case .space, .punctuation: return byte < 0x80
        default: return false
        }
    }

    /// Whether the scalar existed in Unicode 8.0, the version of the reference's category tables.
    static func isInUnicode8(_ scalar: Unicode.Scalar) -> Bool {
        guard let age = scalar.properties.age else { return false }
        return age.major < 8 || (age.major == 8 && age.minor == 0)
    }

    /// The Unicode 8.0 general category, where it differs from today's.
    static func unicode8Category(_ scalar: Unicode.Scalar) -> Unicode.GeneralCategory {
        switch scalar.value {
        case 0x1734, 0x1171E: return .nonspacingMark  // now Mc
        case 0x111C9, 0x166D: return .otherPunctuation  // now Mn, So
        case 0x1885, 0x1886: return .otherLetter  // now Mn
        case 0xA9BD: return .spacingMark  // now Mn
        default: return scalar.properties.generalCategory
        }
    }

    /// NFD as the reference computes it. Its normalization tables predate U+11938 DIVES AKURU
    /// VOWEL SIGN O (Unicode 13), the one scalar that Foundation (Swift 6.3) decomposes and it
    /// does not; the scalar is a starter, so the text around it is normalized on its own.
    static func referenceNFD(_ text: String) -> String {
        let kept: Unicode.Scalar = "\u{11938}"
        guard text.unicodeScalars.contains(kept) else { return text.decomposedStringWithCanonicalMapping }
        return text.unicodeScalars.split(separator: kept, omittingEmptySubsequences: false)
            .map { String(String.UnicodeScalarView($0)).decomposedStringWithCanonicalMapping }
            .joined(separator: String(kept))
    }

    /// Dropped by `clean_text`: NUL, U+FFFD and the reference's "other" class (Cc, Cf, Co),
    /// except tab, newline and carriage return.
    static func isRemovedByCleaning(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0, 0xFFFD: return true
        case 9, 10, 13: return false
        default: break
        }
        guard isInUnicode8(scalar) else { return false }
        switch unicode8Category(scalar) {
        case .control, .format, .privateUse, .surrogate: return true
        default: return false
        }
    }

    /// Rust's `char::is_whitespace` (the White_Space property).
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace
    }

    /// Dropped after NFD when accents are stripped: Unicode 8.0 nonspacing marks.
    static func isStrippedMark(_ scalar: Unicode.Scalar) -> Bool {
        isInUnicode8(scalar) && unicode8Category(scalar) == .nonspacingMark
    }

    /// BERT punctuation: the ASCII ranges plus Unicode 8.0 categories P*.
    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return asciiClass(UInt8(scalar.value)) == .punctuation }
        guard isInUnicode8(scalar) else { return false }
        switch unicode8Category(scalar) {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    /// The CJK blocks that get spaces around each character, as `tokenizers` lists them (its
    /// Extension E range starts at U+2B920, not U+2B820; C and D are adjacent and merged here).
    static func isCJKIdeograph(_ value: UInt32) -> Bool {
        switch value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0xF900...0xFAFF,
             0x20000...0x2A6DF, 0x2A700...0x2B81F, 0x2B920...0x2CEAF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }
}
