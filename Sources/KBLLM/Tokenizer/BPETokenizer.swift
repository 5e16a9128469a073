/// Byte-level BPE (GGUF `tokenizer.ggml.model` = `gpt2`), as used by Qwen2, Llama 3 and SmolLM2;
/// token ids identical to llama.cpp's.
///
/// Encoding: special tokens are cut out of the text first (``encode(_:addSpecial:parseSpecial:)``),
/// the rest is split into words by the ``PreTokenizer``, and each word's UTF-8 bytes, written as
/// byte-level text, are merged pairwise in the order of `tokenizer.ggml.merges` (lowest rank first,
/// leftmost first among equals).
public struct BPETokenizer: Sendable {
    /// A token id (llama.cpp's `llama_token`).
    public typealias Token = Int32

    /// GGUF token types (`tokenizer.ggml.token_type`).
    public enum TokenType: Int, Sendable {
        case undefined = 0, normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    /// The vocabulary: the text of each token, byte-level encoded for normal tokens.
    public let tokens: [String]
    /// The type of each token.
    public let tokenTypes: [TokenType]
    /// The pre-tokenizer named by `tokenizer.ggml.pre`.
    public let preTokenizer: PreTokenizer
    /// `tokenizer.ggml.bos_token_id`, if present.
    public let bos: Token?
    /// `tokenizer.ggml.eos_token_id`, if present.
    public let eos: Token?
    /// Whether ``encode(_:addSpecial:parseSpecial:)`` with `addSpecial` starts with ``bos``
    /// (`tokenizer.ggml.add_bos_token`, by default true for Llama 3 as in llama.cpp).
    public let addsBOS: Bool

    /// Token text to id.
    private let ids: [String: Token]
    /// Merge rules keyed by `left << 32 | right` token ids.
    private let merges: [UInt64: Merge]
    /// The token of each byte's byte-level character (-1 if the vocabulary lacks it).
    private let byteTokens: [Token]
    /// Control, user-defined and unknown tokens, longest text first: matched in text before BPE.
    private let specialTokens: [(scalars: [Unicode.Scalar], id: Token, type: TokenType)]

    struct Merge {
        /// The position in `tokenizer.ggml.merges`: lower merges first.
        let rank: Int32
        /// The token the pair becomes.
        let result: Token
    }

    /// Builds the tokenizer from a GGUF file's metadata.
    /// - Throws: ``TokenizerError`` for another tokenizer model or pre-tokenizer, inconsistent
    ///   lists or out-of-range special ids; ``GGUFError`` for missing or mistyped keys.
    /// - Complexity: O(vocabulary + merges): about 0.35 s for Qwen2's 151,936 tokens and 151,387
    ///   merges in a release build.
    public init(metadata: GGUFMetadata) throws {
        let file = metadata.file
        let model = try metadata.string("tokenizer.ggml.model")
        guard model == "gpt2" else { throw TokenizerError(file: file, problem: .unsupportedModel(model)) }
        let preName = metadata["tokenizer.ggml.pre"]?.stringValue
        guard let preName, let preTokenizer = PreTokenizer(ggmlName: preName) else {
            throw TokenizerError(file: file, problem: .unsupportedPreTokenizer(preName))
        }
        self.preTokenizer = preTokenizer

        tokens = try metadata.strings("tokenizer.ggml.tokens")
        let types = metadata.contains("tokenizer.ggml.token_type")
            ? try metadata.integers("tokenizer.ggml.token_type") : Array(repeating: 1, count: tokens.count)
        guard types.count == tokens.count else {
            throw TokenizerError(file: file, problem: .tokenTypeCount(tokens: tokens.count, types: types.count))
        }
        tokenTypes = types.map { TokenType(rawValue: $0) ?? .undefined }

        var ids: [String: Token] = [:]
        ids.reserveCapacity(tokens.count)
        for (id, text) in tokens.enumerated() { ids[text] = Token(id) }  // a repeated text maps to its last id, as in llama.cpp
        self.ids = ids

        var merges: [UInt64: Merge] = [:]
        let mergeTexts = metadata.contains("tokenizer.ggml.merges") ? try metadata.strings("tokenizer.ggml.merges") : []
        merges.reserveCapacity(mergeTexts.count)
        for (rank, text) in mergeTexts.enumerated() {
            // "left right", split at the first space after the first character (as llama.cpp does)
            guard let space = text.unicodeScalars.dropFirst().firstIndex(of: " ") else { continue }
            let left = String(text.unicodeScalars[..<space])
            let right = String(text.unicodeScalars[text.unicodeScalars.index(after: space)...])
            // A rule whose parts or result are not tokens can never apply to token ids: skip it.
            guard let leftID = ids[left], let rightID = ids[right], let result = ids[left + right] else { continue }
            let key = UInt64(UInt32(bitPattern: leftID)) << 32 | UInt64(UInt32(bitPattern: rightID))
            if merges[key] == nil { merges[key] = Merge(rank: Int32(rank), result: result) }
        }
        self.merges = merges

        byteTokens = ByteLevelEncoding.scalars.map { ids[String($0)] ?? -1 }

        let tokenCount = tokens.count
        func tokenID(_ key: String) throws -> Token? {
            guard metadata.contains(key) else { return nil }
            let id = try metadata.int(key)
            guard id >= 0, id < tokenCount else {
                throw TokenizerError(file: file, problem: .tokenOutOfRange(key: key, id: id))
            }
            return Token(id)
        }
        bos = try tokenID("tokenizer.ggml.bos_token_id")
        eos = try tokenID("tokenizer.ggml.eos_token_id")
        addsBOS = try metadata.bool("tokenizer.ggml.add_bos_token", default: preTokenizer == .llama3)

        // Longest UTF-8 text first, as llama.cpp orders them (ties by id).
        let tokens = tokens, tokenTypes = tokenTypes
        specialTokens = tokenTypes.indices
            .filter { [.control, .userDefined, .unknown].contains(tokenTypes[$0]) && !tokens[$0].isEmpty }
            .sorted { (tokens[$0].utf8.count, -$0) > (tokens[$1].utf8.count, -$1) }
            .map { (scalars: Array(tokens[$0].unicodeScalars), id: Token($0), type: tokenTypes[$0]) }
    }

    /// The number of tokens in the vocabulary.
    public var vocabularySize: Int { tokens.count }

    /// The id of the token whose text is exactly `text`, if any (`"<|im_end|>"`, `"Ġhello"`).
    public func id(of text: String) -> Token? { ids[text] }

    // MARK: - Encoding

    /// The token ids of `text`, as llama.cpp's `llama_tokenize` gives them.
    /// - Parameters:
    ///   - addSpecial: start with BOS when the model asks for it (``addsBOS``).
    ///   - parseSpecial: recognise control tokens written in the text (`<|im_start|>`) as
    ///     themselves; user-defined tokens are always recognised, as in llama.cpp.
    /// - Complexity: O(n log n) in the length of the text.
    public func encode(_ text: String, addSpecial: Bool = false, parseSpecial: Bool = false) -> [Token] {
        var output: [Token] = []
        if addSpecial, addsBOS, let bos { output.append(bos) }
        let scalars = Array(text.unicodeScalars)
        for fragment in splitSpecialTokens(scalars, parseSpecial: parseSpecial) {
            switch fragment {
            case .token(let id):
                output.append(id)
            case .text(let range):
                encodeText(Array(scalars[range]), into: &output)
            }
        }
        return output
    }

    /// The token ids of untrusted text (a question, a document): every character is text, so the
    /// text of a control or user-defined token (`<|im_start|>`) is encoded as the ordinary tokens
    /// of its characters, never as that token.
    public func encodeLiteral(_ text: String) -> [Token] {
        var output: [Token] = []
        encodeText(Array(text.unicodeScalars), into: &output)
        return output
    }

    /// Pre-tokenizes text free of special tokens into words and BPE-encodes each.
    private func encodeText(_ piece: [Unicode.Scalar], into output: inout [Token]) {
        for word in preTokenizer.split(piece) {
            var bytes: [UInt8] = []
            for scalar in piece[word] { bytes.append(contentsOf: String(scalar).utf8) }
            encodeWord(bytes, into: &output)
        }
    }

    enum Fragment: Equatable {
        case text(Range<Int>)
        case token(Token)
    }

    /// Cuts every occurrence of a special token out of the text, longest tokens first
    /// (llama.cpp `tokenizer_st_partition`; the LSTRIP/RSTRIP attributes it sets for a few named
    /// models are not applied).
    func splitSpecialTokens(_ scalars: [Unicode.Scalar], parseSpecial: Bool) -> [Fragment] {
        var fragments: [Fragment] = scalars.isEmpty ? [] : [.text(0..<scalars.count)]
        for special in specialTokens where parseSpecial || special.type == .userDefined {
            let needle = special.scalars
            var next: [Fragment] = []
            for fragment in fragments {
                guard case .text(let range) = fragment else {
                    next.append(fragment)
                    continue
                }
                var start = range.lowerBound
                var position = range.lowerBound
                while position + needle.count <= range.upperBound {
                    if scalars[position] == needle[0], scalars[position..<position + needle.count].elementsEqual(needle) {
                        if position > start { next.append(.text(start..<position)) }
                        next.append(.token(special.id))
                        position += needle.count
                        start = position
                    } else {
                        position += 1
                    }
                }
                if start < range.upperBound { next.append(.text(start..<range.upperBound)) }
            }
            fragments = next
        }
        return fragments
    }

    /// BPE over one word's bytes (llama.cpp `llm_tokenizer_bpe_session::tokenize`).
    private func encodeWord(_ bytes: [UInt8], into output: inout [Token]) {
        if preTokenizer.ignoresMerges, let whole = ids[ByteLevelEncoding.encode(bytes)] {
            output.append(whole)
            return
        }
        // One symbol per byte; merged symbols live in the left one, the right one is unlinked.
        guard !bytes.isEmpty else { return }
        var symbols = bytes.map { byteTokens[Int($0)] }  // token ids (-1: byte missing from the vocabulary)
        var next = Array(1...symbols.count)  // index of the next live symbol (count: none)
        var previous = Array(-1..<symbols.count - 1)  // index of the previous live symbol (-1: none)
        var queue = BigramQueue()

        func enqueue(_ left: Int, _ right: Int) {
            guard left >= 0, right < symbols.count, symbols[left] >= 0, symbols[right] >= 0 else { return }
            let key = UInt64(UInt32(bitPattern: symbols[left])) << 32 | UInt64(UInt32(bitPattern: symbols[right]))
            guard let merge = merges[key] else { return }
            queue.push(Bigram(rank: merge.rank, left: left, right: right,
                              leftToken: symbols[left], rightToken: symbols[right], result: merge.result))
        }
        for index in 0..<max(0, symbols.count - 1) { enqueue(index, index + 1) }

        while let bigram = queue.pop() {
            // Skip pairs that an earlier merge changed.
            guard next[bigram.left] == bigram.right, symbols[bigram.left] == bigram.leftToken,
                symbols[bigram.right] == bigram.rightToken
            else { continue }
            symbols[bigram.left] = bigram.result
            symbols[bigram.right] = -2  // dead
            next[bigram.left] = next[bigram.right]
            if next[bigram.right] < symbols.count { previous[next[bigram.right]] = bigram.left }
            enqueue(previous[bigram.left], bigram.left)
            enqueue(bigram.left, next[bigram.left])
        }
        var index = 0
        while index < symbols.count {
            if symbols[index] >= 0 { output.append(symbols[index]) }
            index = next[index]
        }
    }

    // MARK: - Decoding

    /// The bytes token `id` stands for: byte-level decoded for normal tokens, the text itself for
    /// user-defined ones, and for control and unknown tokens their text only if `includeSpecial`.
    public func bytes(of id: Token, includeSpecial: Bool = false) -> [UInt8] {
        guard id >= 0, Int(id) < tokens.count else { return [] }
        var bytes: [UInt8] = []
        switch tokenTypes[Int(id)] {
        case .normal, .undefined, .unused, .byte:
            ByteLevelEncoding.decode(tokens[Int(id)], into: &bytes)
        case .userDefined:
            bytes.append(contentsOf: tokens[Int(id)].utf8)
        case .control, .unknown:
            if includeSpecial { bytes.append(contentsOf: tokens[Int(id)].utf8) }
        }
        return bytes
    }

    /// The text of `ids`; invalid UTF-8 (a character cut between tokens) becomes U+FFFD.
    public func decode(_ ids: [Token], includeSpecial: Bool = false) -> String {
        var bytes: [UInt8] = []
        for id in ids { bytes.append(contentsOf: self.bytes(of: id, includeSpecial: includeSpecial)) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
