/// The last `capacity` tokens of a sequence (a ring buffer), for the repetition penalties.
struct RecentTokens: Sendable {
    let capacity: Int
    /// Storage, `capacity` tokens once full; `next` is where the next token goes.
    private var ring: [Int32] = []
    private var next = 0

    init(capacity: Int) { self.capacity = max(0, capacity) }

    mutating func append(_ token: Int32) {
        guard capacity > 0 else { return }
        if ring.count < capacity {
            ring.append(token)
        } else {
            ring[next] = token
            next = (next + 1) % capacity
        }
    }

    mutating func removeAll() {
        ring.removeAll(keepingCapacity: true)
        next = 0
    }

    /// How often each token occurs in the window.
    func counts() -> [Int32: Int] {
        var counts: [Int32: Int] = [:]
        for token in ring { counts[token, default: 0] += 1 }
        return counts
    }

    /// The tokens in the window, oldest first.
    var tokens: [Int32] { Array(ring[next...] + ring[..<next]) }
}
