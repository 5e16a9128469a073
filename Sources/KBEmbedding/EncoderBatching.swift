import Foundation
import KBSupport

/// How an embedder splits and schedules its work (shared by the BERT-family embedders).
public struct EncoderOptions: Sendable {
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

/// Tokenizes windows of texts, sorts them by length, packs them into batches and runs a
/// ``BertEncoder`` over the batches on worker threads (see ``MiniLMEmbedder`` for the reasons).
struct EncoderBatching: Sendable {
    let encoder: BertEncoder
    let options: EncoderOptions
    /// Longest sequence, special tokens included.
    let maxLength: Int

    /// Embeds `texts` with `tokenize` (called from several threads), window by window.
    func embed(_ texts: [String], tokenize: @Sendable (String) -> [Int32]) -> [[Float]] {
        var vectors: [[Float]] = []
        vectors.reserveCapacity(texts.count)
        for windowStart in stride(from: 0, to: texts.count, by: options.windowTexts) {
            let window = Array(texts[windowStart..<min(windowStart + options.windowTexts, texts.count)])
            vectors.append(contentsOf: encode(Self.tokenize(window, threads: options.threads, tokenize)))
        }
        return vectors
    }

    /// Sorts, batches and encodes token sequences (each at most ``maxLength`` long).
    func encode(_ ids: [[Int32]]) -> [[Float]] {
        let batches = Self.packBatches(lengths: ids.map(\.count), maxTokens: options.batchTokens)
        let dimension = encoder.config.hiddenSize
        let output = SharedBuffer(count: ids.count * dimension)  // [texts, dimension]
        defer { output.deallocate() }
        let queue = WorkQueue(count: batches.count)
        let workers = min(options.threads, batches.count)
        let capacity = batches.map { $0.reduce(0) { $0 + ids[$1].count } }.max() ?? 0
        func runWorkers() {
            DispatchQueue.concurrentPerform(iterations: workers) { _ in
                let workspace = BertWorkspace(config: encoder.config, tokenCapacity: capacity, maxLength: maxLength)
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
        return (0..<ids.count).map { Array(UnsafeBufferPointer(start: output.base + $0 * dimension, count: dimension)) }
    }

    /// Token ids of every text, tokenized on up to `threads` threads.
    static func tokenize(_ texts: [String], threads: Int, _ tokenize: @Sendable (String) -> [Int32]) -> [[Int32]] {
        let workers = min(threads, max(1, texts.count / 64))
        guard workers > 1 else { return texts.map(tokenize) }
        return [[Int32]](unsafeUninitializedCapacity: texts.count) { buffer, initialized in
            let slots = SharedSlots(buffer.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                for index in stride(from: worker, to: texts.count, by: workers) {
                    (slots.base + index).initialize(to: tokenize(texts[index]))
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
private final class WorkQueue: Sendable {
    private let cursor = Locked(0)
    private let count: Int
    init(count: Int) { self.count = count }

    func next() -> Int? {
        cursor.withLock { cursor in
            guard cursor < count else { return nil }
            cursor += 1
            return cursor - 1
        }
    }
}
