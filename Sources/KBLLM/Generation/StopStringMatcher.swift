/// Finds stop strings in streamed text, which may arrive split across tokens ("<|", "im_end|>").
///
/// Text that could be the start of a stop string is held back until the next piece shows
/// whether it is; text before a stop string is emitted, the stop string and anything after it
/// never are. Matching is by Unicode scalars.
public struct StopStringMatcher: Sendable {
    private let stops: [[Unicode.Scalar]]
    /// Text received but not yet emitted: a suffix that is a prefix of some stop string.
    private var pending: [Unicode.Scalar] = []
    /// Whether a stop string has been seen.
    public private(set) var stopped = false

    /// - Parameter stops: the stop strings (empty strings are ignored).
    public init(_ stops: [String]) {
        self.stops = stops.map { Array($0.unicodeScalars) }.filter { !$0.isEmpty }
    }

    /// Adds text; returns what can be emitted now. After a stop string, returns the text before
    /// it and sets ``stopped``; later calls return nothing.
    public mutating func append(_ text: String) -> String {
        guard !stopped else { return "" }
        guard !stops.isEmpty else { return text }
        pending.append(contentsOf: text.unicodeScalars)
        if let start = firstStop() {
            stopped = true
            let emitted = String(String.UnicodeScalarView(pending[..<start]))
            pending.removeAll()
            return emitted
        }
        let keep = heldSuffixLength()
        let emitted = String(String.UnicodeScalarView(pending[..<(pending.count - keep)]))
        pending.removeFirst(pending.count - keep)
        return emitted
    }

    /// The text still held back (the generation ended without completing a stop string).
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return stopped ? "" : String(String.UnicodeScalarView(pending))
    }

    /// The start of the earliest stop string in `pending`.
    private func firstStop() -> Int? {
        var best: Int?
        for stop in stops where stop.count <= pending.count {
            var index = 0
            while index + stop.count <= pending.count, index < (best ?? Int.max) {
                if pending[index..<index + stop.count].elementsEqual(stop) {
                    best = index
                    break
                }
                index += 1
            }
        }
        return best
    }

    /// The length of the longest suffix of `pending` that is a proper prefix of a stop string.
    private func heldSuffixLength() -> Int {
        var longest = 0
        for stop in stops {
            var length = min(stop.count - 1, pending.count)
            while length > longest {
                if pending[(pending.count - length)...].elementsEqual(stop[..<length]) {
                    longest = length
                    break
                }
                length -= 1
            }
        }
        return longest
    }
}
