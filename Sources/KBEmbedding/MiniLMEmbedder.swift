import Foundation
import KBSupport

/// all-MiniLM-L6-v2 (sentence-transformers): BERT WordPiece tokens, a 6-layer 384-wide BERT
/// encoder, mean pooling and L2 normalization, run natively on OpenBLAS.
///
/// The model folder holds `model.safetensors`, `config.json`, `vocab.txt` and
/// `pooling_config.json` (as scripts/fetch-models.sh lays them out). Hyperparameters come from
/// `config.json`; only the 256-token limit is sentence-transformers' own setting for this model.
///
/// ## Batching and threads
/// ``embed(_:kind:)`` tokenizes a window of at most ``Options/windowTexts`` texts, sorts it by
/// token count (longest first) and packs consecutive texts into batches of at most
/// ``Options/batchTokens`` tokens, end to end without padding (see ``PackedBatch``). Worker threads
/// take whole batches, each with its own workspace, so memory stays bounded by the window and
/// `threads × batchTokens` whatever the number of texts. A text's vector does not depend on the
/// batch it lands in, up to float rounding in the matrix products (tested to 1e-5).
///
/// With more than one worker, OpenBLAS runs single-threaded while ``embed(_:kind:)`` works (see
/// ``BLASThreads``): splitting whole batches across cores beats OpenBLAS's own threads, which
/// also parallelize only the matrix products, and the two kinds of threads must not compete.
/// With one worker, OpenBLAS keeps the thread count the environment gives it.
public struct MiniLMEmbedder: Embedder {
    /// How ``embed(_:kind:)`` splits and schedules its work.
    public typealias Options = EncoderOptions

    /// The sentence-transformers `max_seq_length` of all-MiniLM-L6-v2, special tokens included.
    public static let maxSequenceLength = 256

    public let name = "all-minilm-l6-v2"
    public var dimensions: Int { encoder.config.hiddenSize }
    public let maxTokens: Int
    /// SHA-256 over the safetensors JSON header followed by the file size as 8 little-endian
    /// bytes. The header lists every tensor's name, dtype, shape and byte offsets, so any change
    /// of architecture or layout changes it; hashing it instead of the 90 MB of weights keeps
    /// start-up instant. It does not detect weights edited in place with the same layout, which
    /// kb never does; `scripts/fetch-models.sh` checks the full file's sha256 when fetching.
    public let fingerprint: String
    public let options: Options

    /// The WordPiece tokenizer of the model's vocabulary (also measures chunks for this model).
    public let tokenizer: WordPieceTokenizer
    let encoder: BertEncoder

    /// Loads the model from `directory`.
    ///
    /// - Parameters:
    ///   - directory: The model folder (e.g. `models/all-minilm-l6-v2`).
    ///   - options: Batching and threads.
    /// - Throws: ``EmbeddingModelError`` for a missing file or an unsupported configuration,
    ///   ``SafeTensorsError`` for a bad weights file, ``WordPieceVocabularyError`` for a bad vocabulary;
    ///   each names the file.
    /// - Complexity: Reads the 90 MB of weights once (about 0.1 s).
    public init(directory: URL, options: Options = Options()) throws {
        let configFile = directory.appendingPathComponent("config.json")
        let weightsFile = directory.appendingPathComponent("model.safetensors")
        let vocabularyFile = directory.appendingPathComponent("vocab.txt")
        for file in [configFile, weightsFile, vocabularyFile] where !FileManager.default.fileExists(atPath: file.path) {
            throw EmbeddingModelError.missingFile(file)
        }
        try Self.checkPooling(directory.appendingPathComponent("pooling_config.json"))
        let config = try BertConfig.load(from: configFile)
        let weights = try SafeTensorsFile(url: weightsFile)
        tokenizer = try WordPieceTokenizer(vocabularyFile: vocabularyFile)
        guard tokenizer.vocabularySize <= config.vocabularySize else {
            throw EmbeddingModelError.unsupported(
                file: vocabularyFile, reason: "\(tokenizer.vocabularySize) tokens but the model has \(config.vocabularySize) embeddings")
        }
        encoder = BertEncoder(config: config, weights: try BertWeights(file: weights, config: config))
        maxTokens = min(Self.maxSequenceLength, config.maxPositions)
        var size = UInt64(weights.fileSize).littleEndian
        fingerprint = ContentHash.sha256Hex(weights.headerBytes + withUnsafeBytes(of: &size) { Array($0) })
        self.options = options
    }

    /// Refuses a pooling configuration other than mean pooling (when the file is present).
    private static func checkPooling(_ file: URL) throws {
        guard let data = FileManager.default.contents(atPath: file.path) else { return }
        struct Pooling: Decodable { let pooling_mode_mean_tokens: Bool? }
        guard let pooling = try? JSONDecoder().decode(Pooling.self, from: data) else {
            throw EmbeddingModelError.badConfig(file: file, reason: "not a pooling configuration")
        }
        guard pooling.pooling_mode_mean_tokens != false else {
            throw EmbeddingModelError.unsupported(file: file, reason: "only mean pooling is implemented")
        }
    }

    /// Embeds `texts` (the kind is ignored: MiniLM embeds queries and passages alike).
    ///
    /// - Returns: One unit-length vector of ``dimensions`` floats per text, in order. An empty
    ///   text gets the vector of `[CLS] [SEP]`.
    /// - Complexity: O(total tokens × model size); memory O(``Options/windowTexts`` +
    ///   threads × ``Options/batchTokens``) besides the result.
    public func embed(_ texts: [String], kind: EmbeddingKind) throws -> [[Float]] {
        let tokenizer = tokenizer, maxTokens = maxTokens
        return EncoderBatching(encoder: encoder, options: options, maxLength: maxTokens)
            .embed(texts) { tokenizer.encode($0, maxLength: maxTokens) }
    }

    /// The token ids the encoder reads for `text`: `[CLS]`, WordPiece tokens (cut to
    /// ``maxTokens`` in all), `[SEP]`.
    public func tokenIDs(_ text: String) -> [Int32] {
        tokenizer.encode(text, maxLength: maxTokens)
    }

    /// See ``EncoderBatching/packBatches(lengths:maxTokens:)``.
    static func packBatches(lengths: [Int], maxTokens: Int) -> [[Int]] {
        EncoderBatching.packBatches(lengths: lengths, maxTokens: maxTokens)
    }
}
