/// Prepares text for the FTS5 index so that Chinese and Japanese are searchable at any query length.
///
/// SQLite's `unicode61` tokenizer treats a run of Han characters as one token, so `检索` would only
/// match the whole run `全文检索引擎`. The `trigram` tokenizer finds substrings but cannot match
/// queries of one or two characters. kb therefore indexes every Han, Hiragana and Katakana character
/// as its own token (spaces are inserted around it before `unicode61` sees the text) and turns a
/// query's run of such characters into an FTS5 phrase, which matches adjacent characters in order.
/// Latin, Cyrillic, Hangul and digits keep `unicode61` word tokens with Porter stemming.
///
/// The index is contentless: kb stores this segmented form nowhere, and deleting a row from the
/// index re-derives it from the stored chunk. The function must therefore stay deterministic; bump
/// ``version`` whenever its output changes, which makes `KBDatabase` rebuild the index.
public enum FullTextSegmenter {
    /// Recorded in the database; a mismatch triggers a full-text index rebuild.
    public static let version = "cjk-unigram-1"

    /// True for scalars indexed one per token: Han ideographs (all CJK blocks), Hiragana, Katakana.
    @inline(__always)
    public static func isIdeographic(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x3040...0x30FF,   // Hiragana, Katakana
             0x31F0...0x31FF,   // Katakana phonetic extensions
             0x3400...0x4DBF,   // CJK Extension A
             0x4E00...0x9FFF,   // CJK Unified Ideographs
             0xF900...0xFAFF,   // CJK Compatibility Ideographs
             0xFF66...0xFF9D,   // half-width Katakana
             0x20000...0x2FA1F: // CJK Extensions B-F, compatibility supplement
            return true
        default:
            return false
        }
    }

    /// The text as handed to the FTS5 tokenizer.
    public static func segment(_ text: String) -> String {
        var needsWork = false
        for scalar in text.unicodeScalars where isIdeographic(scalar) {
            needsWork = true
            break
        }
        guard needsWork else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isIdeographic(scalar) {
                out.append(" ")
                out.append(scalar)
                out.append(" ")
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }
}
