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
    public struct Options: Sendable {
        /// Worker threads; each runs whole batches. Default: the number of active cores.
        public var threads: Int
        /// Most tokens in one batch (the rows of every matrix product).
        public var batchTokens: Int
        /// Most texts tokenized, sorted and held at once.
        public var windowTexts: Int

        /// - Parameters:
        ///   - threads: Worker threads (at least 1).
        ///   - batchTokens: Tokens per batch. 512 to 4096 ran within measurement noise of each
        ///     other on 2 cores; 1024 keeps a batch's activations (about 14 KB per token) small.
        ///   - windowTexts: Texts held at once, tokenized and sorted by length together.
        public init(
            threads: Int = ProcessInfo.processInfo.activeProcessorCount, batchTokens: Int = 1024,
            windowTexts: Int = 4096
        ) {
            self.threads = max(1, threads)
            self.batchTokens = max(1, batchTokens)
            self.windowTexts = max(1, windowTexts)
        }
    }

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

    let tokenizer: WordPieceTokenizer
    let encoder: BertEncoder

    /// Loads the model from `directory`.
    ///
    /// - Parameters:
    ///   - directory: The model folder (e.g. `models/all-minilm-l6-v2`).
    ///   - options: Batching and threads.
    /// - Throws: ``EmbeddingModelError`` for a missing file or an unsupported configuration,
    ///   ``SafeTensorsError`` for a bad weights file, ``TokenizerError`` for a bad vocabulary;
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
        var vectors: [[Float]] = []
        vectors.reserveCapacity(texts.count)
        for windowStart in stride(from: 0, to: texts.count, by: options.windowTexts) {
            let window = texts[windowStart..<min(windowStart + options.windowTexts, texts.count)]
            vectors.append(contentsOf: embedWindow(Array(window)))
        }
        return vectors
    }

    /// Tokenizes, sorts, batches and encodes one window of texts.
    private func embedWindow(_ texts: [String]) -> [[Float]] {
        let ids = tokenize(texts)
        let batches = Self.packBatches(lengths: ids.map(\.count), maxTokens: options.batchTokens)
        let dimension = dimensions
        let output = SharedBuffer(count: texts.count * dimension)  // [texts, dimension]
        defer { output.deallocate() }
        let queue = WorkQueue(count: batches.count)
        let workers = min(options.threads, batches.count)
        let capacity = batches.map { $0.reduce(0) { $0 + ids[$1].count } }.max() ?? 0
        func runWorkers() {
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                let workspace = BertWorkspace(config: encoder.config, tokenCapacity: capacity, maxLength: maxTokens)
                let pooled = UnsafeMutablePointer<Float>.allocate(capacity: capacity * dimension)  // [sequences, dimension]
                defer { pooled.deallocate() }
                while let next = queue.next() {
                    var batch = PackedBatch()
                    for index in batches[next] { batch.append(ids[index]) }
                    encoder.embed(batch, workspace: workspace, into: pooled)
                    for (slot, index) in batches[next].enumerated() {
                        (output.base + index * dimension).update(from: pooled + slot * dimension, count: dimension)
                    }
                }
            }
        }
        if workers > 1 { BLASThreads.singleThreaded(runWorkers) } else { runWorkers() }
        return (0..<texts.count).map { Array(UnsafeBufferPointer(start: output.base + $0 * dimension, count: dimension)) }
    }

    /// Token ids of every text, truncated to ``maxTokens``, tokenized on all worker threads.
    private func tokenize(_ texts: [String]) -> [[Int32]] {
        let workers = min(options.threads, max(1, texts.count / 64))
        guard workers > 1 else { return texts.map { tokenizer.encode($0, maxLength: maxTokens) } }
        return [[Int32]](unsafeUninitializedCapacity: texts.count) { buffer, initialized in
            let slots = SharedSlots(buffer.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                for index in stride(from: worker, to: texts.count, by: workers) {
                    (slots.base + index).initialize(to: tokenizer.encode(texts[index], maxLength: maxTokens))
                }
            }
            initialized = texts.count
        }
    }

    /// Groups text indices into batches of similar length: longest first, each batch holding
    /// consecutive texts up to `maxTokens` tokens (a longer single text gets a batch of its own).
    static func packBatches(lengths: [Int], maxTokens: Int) -> [[Int]] {
        let order = lengths.indices.sorted { lengths[$0] != lengths[$1] ? lengths[$0] > lengths[$1] : $0 < $1 }
        var batches: [[Int]] = []
        var current: [Int] = []
        var tokens = 0
        for index in order {
            if !current.isEmpty && tokens + lengths[index] > maxTokens {
                batches.append(current)
                current = []
                tokens = 0
            }
            current.append(index)
            tokens += lengths[index]
        }
        if !current.isEmpty { batches.append(current) }
        return batches
    }
}

/// Output rows shared by worker threads; each thread writes rows no other thread writes.
private final class SharedBuffer: @unchecked Sendable {
    let base: UnsafeMutablePointer<Float>
    init(count: Int) { base = .allocate(capacity: max(count, 1)) }
    func deallocate() { base.deallocate() }
}

/// Result slots shared by worker threads; each thread initializes slots no other thread touches.
private final class SharedSlots: @unchecked Sendable {
    let base: UnsafeMutablePointer<[Int32]>
    init(_ base: UnsafeMutablePointer<[Int32]>) { self.base = base }
}

/// Hands out batch numbers 0..<count to worker threads, each once.
private final class WorkQueue: @unchecked Sendable {  // state guarded by `lock`
    private let lock = NSLock()
    private var cursor = 0
    private let count: Int
    init(count: Int) { self.count = count }

    func next() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard cursor < count else { return nil }
        cursor += 1
        return cursor - 1
    }
}
