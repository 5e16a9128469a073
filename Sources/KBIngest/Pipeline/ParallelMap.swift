import Dispatch

/// Maps an array on a fixed number of threads, keeping order. Used for the read-parse-chunk stage.
enum ParallelMap {
    static func map<Input: Sendable, Output: Sendable>(
        _ inputs: [Input], threads: Int, _ transform: @Sendable (Input) -> Output
    ) -> [Output] {
        let workers = max(1, min(threads, inputs.count))
        if workers == 1 { return inputs.map(transform) }
        let results = ResultSlots<Output>(count: inputs.count)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var index = worker
            while index < inputs.count {
                results.set(index, transform(inputs[index]))
                index += workers
            }
        }
        return results.collect()
    }
}

/// Preallocated slots written by distinct indices from many threads (a raw buffer: Swift's
/// exclusivity checks forbid concurrent mutation through one array property).
private final class ResultSlots<Output>: @unchecked Sendable {
    private let slots: UnsafeMutablePointer<Output?>
    private let count: Int

    init(count: Int) {
        self.count = count
        slots = UnsafeMutablePointer<Output?>.allocate(capacity: count)
        slots.initialize(repeating: nil, count: count)
    }

    deinit {
        slots.deinitialize(count: count)
        slots.deallocate()
    }

    func set(_ index: Int, _ value: Output) { slots[index] = value }

    func collect() -> [Output] { (0..<count).map { slots[$0]! } }
}
