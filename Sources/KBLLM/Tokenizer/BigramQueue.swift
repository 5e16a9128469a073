// The work queue of BPE merges: candidate pairs of adjacent symbols, best first.

/// A candidate merge of two adjacent symbols.
struct Bigram {
    let rank: Int32
    let left: Int
    let right: Int
    let leftToken: BPETokenizer.Token
    let rightToken: BPETokenizer.Token
    let result: BPETokenizer.Token

    /// Lower rank first; among equal ranks, the leftmost pair.
    func precedes(_ other: Bigram) -> Bool {
        rank < other.rank || (rank == other.rank && left < other.left)
    }
}

/// A binary min-heap of bigrams by ``Bigram/precedes(_:)``.
struct BigramQueue {
    private var heap: [Bigram] = []

    mutating func push(_ bigram: Bigram) {
        heap.append(bigram)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Bigram? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var best = parent
                if left < heap.count, heap[left].precedes(heap[best]) { best = left }
                if right < heap.count, heap[right].precedes(heap[best]) { best = right }
                if best == parent { break }
                heap.swapAt(parent, best)
                parent = best
            }
        }
        return top
    }
}
