/// Turns token bytes into text as they arrive without ever emitting a broken character: a
/// token may end inside a multi-byte UTF-8 character (byte-level BPE splits Chinese characters
/// and emoji across tokens), so the bytes of an unfinished character wait for the next token.
///
/// The pieces concatenated equal decoding all the bytes at once (`String(decoding:as:)`),
/// including the U+FFFD that replaces bytes which are not UTF-8.
public struct IncrementalDecoder: Sendable {
    /// Bytes received but not yet emitted: at most the start of one character (≤ 3 bytes)
    /// between calls.
    private var pending: [UInt8] = []

    public init() {}

    /// Adds bytes and returns the text they complete (possibly empty).
    public mutating func append(_ bytes: some Sequence<UInt8>) -> String {
        pending.append(contentsOf: bytes)
        let cut = Self.completeLength(pending)
        guard cut > 0 else { return "" }
        let text = String(decoding: pending[..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return text
    }

    /// The text of any bytes still waiting (an unfinished character becomes U+FFFD).
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Whether bytes are waiting for the rest of their character.
    public var hasPendingBytes: Bool { !pending.isEmpty }

    /// The length of the prefix of `bytes` that does not end inside a character which the next
    /// bytes could still complete.
    static func completeLength(_ bytes: [UInt8]) -> Int {
        // Look back at most 3 bytes for the lead byte of a sequence longer than what follows it.
        var index = bytes.count - 1
        let lowest = max(0, bytes.count - 3)
        while index >= lowest {
            let byte = bytes[index]
            if byte & 0xC0 != 0x80 {  // not a continuation byte: a lead byte or ASCII
                let length: Int
                switch byte {
                case 0xC2...0xDF: length = 2
                case 0xE0...0xEF: length = 3
                case 0xF0...0xF4: length = 4
                default: return bytes.count  // ASCII or never valid: nothing to wait for
                }
                return index + length > bytes.count ? index : bytes.count
            }
            index -= 1
        }
        return bytes.count  // only continuation bytes at the end: no character to complete
    }
}
