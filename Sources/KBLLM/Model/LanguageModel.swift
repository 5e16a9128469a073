import Foundation

/// A quantized GGUF language model loaded for inference: the file (memory-mapped, weights not
/// copied), its hyperparameters, weights, tokenizer and chat template, and the paged KV pool
/// (``KVBlockPool``) that holds every request's keys and values and the cached prefixes they share.
///
/// ```swift
/// let model = try LanguageModel(path: "models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
/// let session = model.makeSession()
/// var logits = try session.prefill(model.tokenizer.encode(prompt, addSpecial: true, parseSpecial: true))
/// // pick a token from `logits` (a Sampler), then:
/// logits = try session.evaluate([token])
/// ```
/// Immutable and thread-safe: any number of ``InferenceSession``s (one per request) may run on
/// different threads at once.
public final class LanguageModel: Sendable {
    /// Load options.
    public struct Options: Sendable {
        /// Threads each matrix product and attention layer is split over (default: every core).
        public var threads: Int
        /// The default context length of sessions, in tokens (default: the trained context
        /// length, at most 4,096).
        public var contextLength: Int?
        /// The byte budget of the KV pool: every running sequence's keys and values and the
        /// cached prefixes. A token takes `2 × layers × kvHeads × headDim × 2` bytes with the F16
        /// cache (12 KiB for Qwen2.5-0.5B, 28 KiB for 1.5B, 256 KiB for 32B). Default: room for
        /// 16 sequences of 2,048 tokens, at least 256 MiB, but no more than the memory left beside
        /// the weights (see ``LanguageModel/defaultKVCacheBytes(tokenBytes:modelBytes:memoryBytes:)``),
        /// and always one context. Pages cost memory once written.
        public var kvCacheBytes: Int?
        /// Tokens per KV block (default 32).
        public var kvBlockTokens: Int
        /// Whether sessions reuse and publish cached prompt prefixes unless told otherwise (default true).
        public var sharePrefixes: Bool
        /// How matrix products treat activations (default: quantized to int8, as llama.cpp does).
        public var products: WeightMatrix.Arithmetic
        /// How KV caches (sessions' and the prefix cache's) store keys and values (default F16, as
        /// llama.cpp does; `.f32` for the exact arithmetic).
        public var kvCache: KVCachePrecision

        /// Options with the defaults above; every field can be set.
        public init(threads: Int? = nil, contextLength: Int? = nil, kvCacheBytes: Int? = nil, kvBlockTokens: Int = 32,
                    sharePrefixes: Bool = true, products: WeightMatrix.Arithmetic = .quantizedActivations,
                    kvCache: KVCachePrecision = .f16) {
            self.sharePrefixes = sharePrefixes
            self.threads = threads ?? ProcessInfo.processInfo.activeProcessorCount
            self.contextLength = contextLength
            self.kvCacheBytes = kvCacheBytes
            self.kvBlockTokens = kvBlockTokens
            self.products = products
            self.kvCache = kvCache
        }
    }

    /// The model file.
    public let file: GGUFFile
    /// The transformer's shape, from the metadata.
    public let hyperparameters: ModelHyperparameters
    /// The tokenizer, from the metadata.
    public let tokenizer: BPETokenizer
    /// The Jinja chat template (`tokenizer.chat_template`), if the file has one.
    public let chatTemplate: String?
    /// The keys and values of every session and the cached prefixes they share.
    public let kvPool: KVBlockPool
    /// The threads sessions use unless given their own.
    public let threadPool: ThreadPool
    /// The context length of sessions made without one.
    public let defaultContextLength: Int
    /// How sessions' KV caches store keys and values.
    public let kvCachePrecision: KVCachePrecision
    /// Whether sessions share cached prompt prefixes by default (``Options/sharePrefixes``).
    public let sharesPrefixes: Bool
    /// The network.
    let transformer: Transformer

    /// Loads the model at `path`.
    /// - Throws: ``GGUFError`` (unreadable file, missing key), ``ModelError`` (unsupported
    ///   architecture, missing or misshapen tensor), ``TokenizerError`` (unsupported tokenizer),
    ///   each naming the file.
    public convenience init(path: String, options: Options = Options()) throws {
        try self.init(file: GGUFFile(path: path), options: options)
    }

    /// Builds the model from an opened file.
    /// - Throws: as ``init(path:options:)``.
    public init(file: GGUFFile, options: Options = Options()) throws {
        self.file = file
        let tokenizer = try BPETokenizer(metadata: file.metadata)
        let hyper = try ModelHyperparameters(metadata: file.metadata, tokenCount: tokenizer.vocabularySize)
        guard hyper.vocabularySize >= tokenizer.vocabularySize else {
            throw ModelError(file: file.path, problem: .invalidHyperparameter(
                key: "\(hyper.architecture.rawValue).vocab_size",
                reason: "\(hyper.vocabularySize) is smaller than the tokenizer's \(tokenizer.vocabularySize) tokens"))
        }
        self.tokenizer = tokenizer
        hyperparameters = hyper
        chatTemplate = file.metadata["tokenizer.chat_template"]?.stringValue
        transformer = Transformer(hyper: hyper, weights: try TransformerWeights(file: file, hyper: hyper), products: options.products)
        threadPool = ThreadPool(threads: options.threads)
        defaultContextLength = max(1, options.contextLength ?? min(hyper.trainedContextLength, 4096))
        kvCachePrecision = options.kvCache
        sharesPrefixes = options.sharePrefixes
        let tokenBytes = 2 * hyper.layerCount * hyper.kvDimension * options.kvCache.elementByteCount
        let poolBytes = options.kvCacheBytes
            ?? Self.defaultKVCacheBytes(tokenBytes: tokenBytes, modelBytes: file.fileSize, memoryBytes: MemoryLimit.bytes)
        kvPool = KVBlockPool(hyper: hyper, blockTokens: options.kvBlockTokens,
                             budgetBytes: max(poolBytes, defaultContextLength * tokenBytes), precision: options.kvCache)
    }

    /// The KV pool's default budget: room for 16 sequences of 2,048 tokens (at least 256 MiB), but
    /// no more than the memory left when the weights (`modelBytes`, all resident while serving)
    /// and 1 GiB for everything else are taken from `memoryBytes`: a 32B model at 4 bits
    /// (19.9 GB, 256 KiB a token) on a 24 GiB machine gets about 4 GiB, not the 8 GiB that 16
    /// full sequences would need. The pool never holds less than one context (the caller's floor).
    public static func defaultKVCacheBytes(tokenBytes: Int, modelBytes: Int, memoryBytes: Int) -> Int {
        let wanted = max(256 << 20, 16 * 2048 * tokenBytes)
        let spare = memoryBytes - modelBytes - (1 << 30)
        return max(0, min(wanted, spare))
    }

    /// A new session with an empty context.
    /// - Parameters:
    ///   - contextLength: the most tokens the session holds (default ``defaultContextLength``).
    ///   - threads: its own thread pool (default: the model's ``threadPool``).
    ///   - usePrefixCache: whether ``InferenceSession/prefill(_:)`` reuses and publishes cached
    ///     prefixes in ``kvPool`` (default ``sharesPrefixes``; false for measurements).
    public func makeSession(contextLength: Int? = nil, threads: ThreadPool? = nil, usePrefixCache: Bool? = nil) -> InferenceSession {
        InferenceSession(
            model: self, contextLength: contextLength ?? defaultContextLength, pool: threads ?? threadPool,
            usePrefixCache: usePrefixCache ?? sharesPrefixes)
    }
}
