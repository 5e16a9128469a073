import CKBKernels

/// How the KV cache stores keys and values.
public enum KVCachePrecision: Sendable, Equatable {
    /// IEEE half floats (rounded to nearest even), as llama.cpp's default cache: half the memory
    /// of `.f32` in sessions and the prefix cache.
    case f16
    /// Floats: the exact arithmetic the reference tests hold the forward pass to.
    case f32

    /// Bytes per stored element.
    public var elementByteCount: Int { self == .f16 ? 2 : 4 }

    /// The ggml type id the kernels take (`KB_TYPE_F16` / `KB_TYPE_F32`).
    var kernelType: Int32 { self == .f16 ? Int32(KB_TYPE_F16) : Int32(KB_TYPE_F32) }
}

/// The keys and values of every layer for the tokens a session has evaluated.
///
/// Layout per layer: `kvHeads × capacity × headDimension` elements (``KVCachePrecision``) for keys
/// and the same for values, so one head's keys over all positions are contiguous (what attention
/// scans). Position `p` of KV head `h` is element `(h · capacity + p) · headDimension`. Keys are
/// stored after RoPE.
final class KVCache: @unchecked Sendable {
    /// The most positions the cache holds.
    let capacity: Int
    let layerCount: Int
    let kvHeadCount: Int
    let headDimension: Int
    let precision: KVCachePrecision
    /// `layerCount` key buffers and `layerCount` value buffers, each `kvHeads × capacity × headDim` elements.
    private let keys: [UnsafeMutableRawPointer]
    private let values: [UnsafeMutableRawPointer]

    /// Elements per layer per kind: `kvHeads × capacity × headDim`.
    var elementsPerLayer: Int { kvHeadCount * capacity * headDimension }
    /// Bytes of all buffers.
    var byteCount: Int { 2 * layerCount * elementsPerLayer * precision.elementByteCount }

    init(hyper: ModelHyperparameters, capacity: Int, precision: KVCachePrecision = .f16) {
        self.capacity = capacity
        self.precision = precision
        layerCount = hyper.layerCount
        kvHeadCount = hyper.kvHeadCount
        headDimension = hyper.headDimension
        let bytes = hyper.kvHeadCount * capacity * hyper.headDimension * precision.elementByteCount
        // Positions are written before they are read, and untouched pages cost no memory until a
        // long context reaches them.
        keys = (0..<hyper.layerCount).map { _ in .allocate(byteCount: bytes, alignment: 64) }
        values = (0..<hyper.layerCount).map { _ in .allocate(byteCount: bytes, alignment: 64) }
    }

    deinit {
        for p in keys { p.deallocate() }
        for p in values { p.deallocate() }
    }

    /// The key vector of KV head `head` at `position` in `layer` (`headDimension` elements).
    @inline(__always)
    func key(layer: Int, head: Int, position: Int) -> UnsafeMutableRawPointer {
        keys[layer] + (head * capacity + position) * headDimension * precision.elementByteCount
    }

    /// The value vector of KV head `head` at `position` in `layer` (`headDimension` elements).
    @inline(__always)
    func value(layer: Int, head: Int, position: Int) -> UnsafeMutableRawPointer {
        values[layer] + (head * capacity + position) * headDimension * precision.elementByteCount
    }

    /// A stored key vector as floats (tests and debugging).
    func keyVector(layer: Int, head: Int, position: Int) -> [Float] { floats(key(layer: layer, head: head, position: position)) }

    /// A stored value vector as floats (tests and debugging).
    func valueVector(layer: Int, head: Int, position: Int) -> [Float] { floats(value(layer: layer, head: head, position: position)) }

    private func floats(_ pointer: UnsafeRawPointer) -> [Float] {
        [Float](unsafeUninitializedCapacity: headDimension) { buffer, count in
            read(pointer, into: buffer.baseAddress!, count: headDimension)
            count = headDimension
        }
    }

    /// `count` stored elements at `source` as floats.
    private func read(_ source: UnsafeRawPointer, into out: UnsafeMutablePointer<Float>, count: Int) {
        switch precision {
        case .f16: kb_f16_to_f32_row(source.assumingMemoryBound(to: UInt16.self), out, Int64(count), KB_ISA_BEST)
        case .f32: out.update(from: source.assumingMemoryBound(to: Float.self), count: count)
        }
    }

    /// Stores `count` floats at `destination` in the cache's precision.
    private func write(_ input: UnsafePointer<Float>, to destination: UnsafeMutableRawPointer, count: Int) {
        switch precision {
        case .f16: kb_f32_to_f16_row(input, destination.assumingMemoryBound(to: UInt16.self), Int64(count), KB_ISA_BEST)
        case .f32: destination.assumingMemoryBound(to: Float.self).update(from: input, count: count)
        }
    }

    /// Stores the keys and values of `rows` tokens at positions `start..<start+rows` of `layer`;
    /// `k` and `v` hold `rows × kvHeads × headDim` floats (a projection's output rows).
    func store(layer: Int, start: Int, rows: Int, k: UnsafePointer<Float>, v: UnsafePointer<Float>) {
        let width = kvHeadCount * headDimension
        for row in 0..<rows {
            for head in 0..<kvHeadCount {
                write(k + row * width + head * headDimension, to: key(layer: layer, head: head, position: start + row), count: headDimension)
                write(v + row * width + head * headDimension, to: value(layer: layer, head: head, position: start + row), count: headDimension)
            }
        }
    }

    /// Bytes in a block of `tokens` positions: keys then values of each layer, each
    /// `kvHeads × tokens × headDim` elements (the layout of ``PrefixCache`` blocks).
    func blockByteCount(tokens: Int) -> Int { 2 * layerCount * kvHeadCount * tokens * headDimension * precision.elementByteCount }

    /// Copies positions `start..<start+tokens` of every layer out to `block` (``blockByteCount(tokens:)`` bytes).
    func copyOut(start: Int, tokens: Int, to block: UnsafeMutableRawPointer) {
        var out = block
        let run = tokens * headDimension * precision.elementByteCount
        for layer in 0..<layerCount {
            for head in 0..<kvHeadCount {
                out.copyMemory(from: key(layer: layer, head: head, position: start), byteCount: run)
                out += run
            }
            for head in 0..<kvHeadCount {
                out.copyMemory(from: value(layer: layer, head: head, position: start), byteCount: run)
                out += run
            }
        }
    }

    /// Copies a block made by ``copyOut(start:tokens:to:)`` into positions `start..<start+tokens`.
    func copyIn(start: Int, tokens: Int, from block: UnsafeRawPointer) {
        var input = block
        let run = tokens * headDimension * precision.elementByteCount
        for layer in 0..<layerCount {
            for head in 0..<kvHeadCount {
                key(layer: layer, head: head, position: start).copyMemory(from: input, byteCount: run)
                input += run
            }
            for head in 0..<kvHeadCount {
                value(layer: layer, head: head, position: start).copyMemory(from: input, byteCount: run)
                input += run
            }
        }
    }
}
