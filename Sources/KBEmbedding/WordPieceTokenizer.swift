import Foundation

/// Why a ``WordPieceTokenizer`` could not be created.
public enum WordPieceVocabularyError: Error, CustomStringConvertible, Equatable {
    /// The vocabulary file could not be read.
    case unreadableVocabulary(file: URL, reason: String)
    /// The vocabulary file is not valid UTF-8.
    case invalidVocabularyEncoding(file: URL)
    /// The vocabulary file holds no tokens.
    case emptyVocabulary(file: URL)
    /// A token the tokenizer needs (`[UNK]`, `[CLS]` or `[SEP]`) is not in the vocabulary.
    case missingSpecialToken(String, file: URL)

    /// A message naming the file and what is wrong with it.
    public var description: String {
        switch self {
        case let .unreadableVocabulary(file, reason):
            return "cannot read vocabulary file \(file.path): \(reason)"
        case let .invalidVocabularyEncoding(file):
            return "vocabulary file \(file.path) is not valid UTF-8"
        case let .emptyVocabulary(file):
            return "vocabulary file \(file.path) is empty"
        case let .missingSpecialToken(token, file):
            return "vocabulary file \(file.path) has no \(token) token"
        }
    }
}

/// The uncased BERT WordPiece tokenizer used by all-MiniLM-L6-v2, matching Hugging Face
/// `tokenizers` (`BertNormalizer` + `BertPreTokenizer` + `WordPiece`, lowercase, accents
/// stripped, CJK split, 100 characters per word at most) id for id.
///
/// Normalization and word splitting live in ``BertPreTokenizer``; this type does the greedy
/// longest-match-first split of each word into vocabulary pieces, with `##` marking a piece that
/// continues a word. A word that cannot be split completely, or that is longer than 100
/// characters, becomes a single `[UNK]`. Literal special tokens in the text (`[CLS]`, `[SEP]`,
/// `[PAD]`, `[UNK]`, `[MASK]`) map to their ids, as in the reference.
///
/// Vocabulary lookups hash UTF-8 byte ranges of the normalized word directly (no `String` per
/// candidate), which is the hot loop of ingest: it runs on every chunk of every document.
public struct WordPieceTokenizer: Sendable {
    /// Longest word, in Unicode scalars, that is split into pieces; longer words are `[UNK]`.
    static let maxCharactersPerWord = 100

    /// Token strings by id, as listed in the vocabulary file.
    let tokens: [String]
    /// Pieces that start a word.
    let wordStarts: ByteStringTable
    /// Pieces that continue a word, without their `##` prefix.
    let continuations: ByteStringTable
    let unknownID: Int32
    let classifierID: Int32
    let separatorID: Int32
    let preTokenizer: BertPreTokenizer

    /// Loads a BERT `vocab.txt`: one token per line, the id being the line number from 0.
    ///
    /// - Parameters:
    ///   - vocabularyFile: The vocabulary file (UTF-8, `\n`-separated).
    /// - Throws: ``WordPieceVocabularyError`` naming the file when it cannot be read, is not UTF-8, is
    ///   empty, or lacks `[UNK]`, `[CLS]` or `[SEP]`.
    /// - Complexity: O(size of the file); about 30k lines for MiniLM.
    public init(vocabularyFile: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: vocabularyFile)
        } catch {
            throw WordPieceVocabularyError.unreadableVocabulary(file: vocabularyFile, reason: error.localizedDescription)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw WordPieceVocabularyError.invalidVocabularyEncoding(file: vocabularyFile)
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        guard !lines.isEmpty else { throw WordPieceVocabularyError.emptyVocabulary(file: vocabularyFile) }
        guard lines.count <= Int(Int32.max) else {
            throw WordPieceVocabularyError.unreadableVocabulary(file: vocabularyFile, reason: "more tokens than Int32 ids can number")
        }

        var starts: [([UInt8], Int32)] = []
        var continuing: [([UInt8], Int32)] = []
        var ids: [String: Int32] = [:]
        for (index, token) in lines.enumerated() {
            let id = Int32(index)
            ids[token] = id
            // The pre-tokenizer splits on '#', so a word never starts with "##": such tokens are
            // only ever looked up as continuations. Bytes, not Characters: in "##ि" the mark
            // joins the second '#' into one Character.
            let bytes = Array(token.utf8)
            if bytes.starts(with: [UInt8(ascii: "#"), UInt8(ascii: "#")]) {
                continuing.append((Array(bytes.dropFirst(2)), id))
            } else {
                starts.append((bytes, id))
            }
        }
        func requireID(_ token: String) throws -> Int32 {
            guard let id = ids[token] else {
                throw WordPieceVocabularyError.missingSpecialToken(token, file: vocabularyFile)
            }
            return id
        }
        unknownID = try requireID("[UNK]")
        classifierID = try requireID("[CLS]")
        separatorID = try requireID("[SEP]")
        tokens = lines
        wordStarts = ByteStringTable(starts)
        continuations = ByteStringTable(continuing)
        let specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].compactMap { token in
            ids[token].map { (bytes: Array(token.utf8), id: $0) }
        }
        preTokenizer = BertPreTokenizer(specialTokens: specials)
    }

    /// The number of tokens in the vocabulary.
    public var vocabularySize: Int { tokens.count }

    /// Splits `text` into word pieces, without `[CLS]` and `[SEP]`.
    ///
    /// - Parameters:
    ///   - text: Raw text.
    /// - Returns: Vocabulary tokens (continuations carry their `##`), `[UNK]` for unknown words.
    /// - Complexity: O(n) in the UTF-8 length of `text`.
    public func tokenize(_ text: String) -> [String] {
        var pieces: [String] = []
        forEachID(in: text) { id in
            pieces.append(tokens[Int(id)])
            return true
        }
        return pieces
    }

    /// Encodes `text` as model input: `[CLS]`, the piece ids, `[SEP]`, with the pieces cut so
    /// that the whole is at most `maxLength` ids (the reference's `enable_truncation`).
    ///
    /// - Parameters:
    ///   - text: Raw text.
    ///   - maxLength: The most ids returned, special tokens included; values below 2 act as 2.
    /// - Returns: Token ids; tokenizing stops as soon as the budget is used up.
    /// - Complexity: O(n) in the UTF-8 length of the part of `text` that fits.
    public func encode(_ text: String, maxLength: Int = 256) -> [Int32] {
        let budget = max(0, maxLength - 2)
        var ids: [Int32] = [classifierID]
        ids.reserveCapacity(min(budget, text.utf8.count) + 2)
        if budget > 0 {
            forEachID(in: text) { id in
                ids.append(id)
                return ids.count - 1 < budget
            }
        }
        ids.append(separatorID)
        return ids
    }

    /// The number of word pieces in `text`, without special tokens; equal to
    /// `tokenize(text).count` but builds no strings.
    ///
    /// - Parameters:
    ///   - text: Raw text.
    /// - Complexity: O(n) in the UTF-8 length of `text`.
    public func countTokens(_ text: String) -> Int {
        var count = 0
        forEachID(in: text) { _ in
            count += 1
            return true
        }
        return count
    }

    /// Calls `body` with the id of each word piece of `text` until it returns `false`.
    func forEachID(in text: String, _ body: (Int32) -> Bool) {
        let longestKey = max(wordStarts.maxKeyLength, continuations.maxKeyLength)
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: longestKey + 1) { hashes in
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: Self.maxCharactersPerWord) { pieces in
                preTokenizer.forEachWord(in: text) { word in
                    switch word {
                    case .special(let id):
                        return body(id)
                    case .text(let bytes):
                        let count = splitWord(bytes, into: pieces, hashes: hashes)
                        if count == 0 { return body(unknownID) }
                        for k in 0..<count where !body(pieces[k]) { return false }
                        return true
                    }
                }
            }
        }
    }

    /// Greedy longest-match-first WordPiece split of one normalized word.
    ///
    /// - Parameters:
    ///   - word: The word's UTF-8 bytes.
    ///   - pieces: Room for ``maxCharactersPerWord`` ids.
    ///   - hashes: Scratch room for one more than the longest key's length.
    /// - Returns: The number of ids written, or 0 when the word is `[UNK]`.
    func splitWord(
        _ word: UnsafeBufferPointer<UInt8>, into pieces: UnsafeMutableBufferPointer<Int32>,
        hashes: UnsafeMutableBufferPointer<UInt64>
    ) -> Int {
        let n = word.count
        // Only a word longer than 100 bytes can be longer than 100 scalars.
        if n > Self.maxCharactersPerWord {
            var scalars = 0
            for byte in word where byte & 0xC0 != 0x80 { scalars += 1 }
            if scalars > Self.maxCharactersPerWord { return 0 }
        }
        var count = 0
        var start = 0
        while start < n {
            let isStart = start == 0
            let limit = min(n, start + (isStart ? wordStarts.maxKeyLength : continuations.maxKeyLength))
            // The hash of every candidate word[start..<end], in one pass.
            var state = ByteStringTable.hashSeed
            for end in start..<limit {
                state = ByteStringTable.hashStep(state, word[end])
                hashes[end - start + 1] = state
            }
            var end = limit
            var found: Int32?
            while end > start {
                // Candidates end on scalar boundaries only.
                if end == n || word[end] & 0xC0 != 0x80 {
                    let key = UnsafeBufferPointer(rebasing: word[start..<end])
                    let hash = hashes[end - start]
                    let id = isStart
                        ? wordStarts.id(of: key, hashState: hash)
                        : continuations.id(of: key, hashState: hash)
                    if let id {
                        found = id
                        break
                    }
                }
                end -= 1
            }
            guard let id = found else { return 0 }
            pieces[count] = id
            count += 1
            start = end
        }
        return count
    }
}

/// An immutable hash table from UTF-8 byte strings to token ids.
///
/// Written by hand because the lookup key is a slice of a byte buffer: a `[String: Int32]`
/// needs a `String` built, validated and hashed for every candidate piece (several per word);
/// with it the whole tokenizer ran at about 10 M tokens/s instead of 14-22 M (1 MB of English,
/// release build). The hashes of all candidates that start at one offset come from a single
/// FNV-1a pass. Open addressing with linear probing, at most half full.
struct ByteStringTable: Sendable {
    struct Slot {
        var hash: UInt32 = 0
        var length: UInt32 = 0
        var offset: UInt32 = 0
        var id: Int32 = -1  // -1: empty
    }

    /// All keys, back to back.
    let storage: [UInt8]
    let slots: [Slot]
    /// The length in bytes of the longest key: no longer candidate can match.
    let maxKeyLength: Int

    /// Builds the table; a key listed twice keeps its last id.
    init(_ entries: [([UInt8], Int32)]) {
        var capacity = 16
        while capacity < entries.count * 2 { capacity *= 2 }
        var storage: [UInt8] = []
        var slots = [Slot](repeating: Slot(), count: capacity)
        var maxKeyLength = 0
        for (bytes, id) in entries {
            let hash = bytes.withUnsafeBufferPointer(Self.hash)
            var index = Int(hash) & (capacity - 1)
            while slots[index].id >= 0 {
                let slot = slots[index]
                if slot.hash == hash && storage[Int(slot.offset)..<Int(slot.offset + slot.length)].elementsEqual(bytes) { break }
                index = (index + 1) & (capacity - 1)
            }
            if slots[index].id < 0 {
                slots[index] = Slot(hash: hash, length: UInt32(bytes.count), offset: UInt32(storage.count), id: id)
                storage.append(contentsOf: bytes)
                maxKeyLength = max(maxKeyLength, bytes.count)
            } else {
                slots[index].id = id
            }
        }
        self.storage = storage
        self.slots = slots
        self.maxKeyLength = maxKeyLength
    }

    // FNV-1a: byte by byte, so that the hashes of all prefixes come in one pass.
    static let hashSeed: UInt64 = 0xcbf2_9ce4_8422_2325

    @inline(__always)
    static func hashStep(_ state: UInt64, _ byte: UInt8) -> UInt64 {
        (state ^ UInt64(byte)) &* 0x100_0000_01b3
    }

    /// The FNV-1a state folded to 32 bits.
    @inline(__always)
    static func fold(_ state: UInt64) -> UInt32 {
        UInt32(truncatingIfNeeded: state ^ (state >> 32))
    }

    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        fold(bytes.reduce(hashSeed, hashStep))
    }

    /// The id of `key`, if it is in the table.
    ///
    /// - Parameters:
    ///   - key: The bytes to look up.
    ///   - hashState: The FNV-1a state after `key` (see ``hashStep(_:_:)``).
    func id(of key: UnsafeBufferPointer<UInt8>, hashState: UInt64) -> Int32? {
        let hash = Self.fold(hashState)
        return slots.withUnsafeBufferPointer { slots in
            storage.withUnsafeBufferPointer { storage in
                let mask = slots.count - 1
                var index = Int(hash) & mask
                while true {
                    let slot = slots[index]
                    if slot.id < 0 { return nil }
                    if slot.hash == hash && Int(slot.length) == key.count {
                        let offset = Int(slot.offset)
                        var k = 0
                        while k < key.count && storage[offset + k] == key[k] { k += 1 }
                        if k == key.count { return slot.id }
                    }
                    index = (index + 1) & mask
                }
            }
        }
    }
}
