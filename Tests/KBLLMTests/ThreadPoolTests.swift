import Foundation
import XCTest
@testable import KBLLM

/// The persistent pool: every task runs exactly once, loops follow each other without loss, and
/// nested or concurrent loops run (inline) instead of deadlocking.
final class ThreadPoolTests: XCTestCase {
    /// Counts calls per task (each slot written by one thread at a time if tasks are distinct).
    final class Counts: @unchecked Sendable {
        let slots: UnsafeMutablePointer<Int>
        let count: Int
        init(_ count: Int) {
            self.count = count
            slots = .allocate(capacity: max(count, 1))
            slots.initialize(repeating: 0, count: max(count, 1))
        }
        deinit { slots.deallocate() }
        var array: [Int] { Array(UnsafeBufferPointer(start: slots, count: count)) }
    }

    func testEveryTaskRunsExactlyOnceOverManyLoops() {
        for threads in [1, 2, 3, 4] {
            let pool = ThreadPool(threads: threads)
            for count in [0, 1, 2, 3, 7, 64, 1000] {
                for _ in 0..<50 {  // back-to-back loops: workers spinning between them
                    let counts = Counts(count)
                    pool.parallelFor(count) { task in counts.slots[task] += 1 }
                    XCTAssertEqual(counts.array, [Int](repeating: 1, count: count), "threads \(threads) count \(count)")
                }
            }
        }
    }

    func testLoopsAfterWorkersHaveGoneToSleep() {
        let pool = ThreadPool(threads: 2)
        for _ in 0..<3 {
            Thread.sleep(forTimeInterval: 0.05)  // longer than the spin: workers block
            let counts = Counts(100)
            pool.parallelFor(100) { task in counts.slots[task] += 1 }
            XCTAssertEqual(counts.array, [Int](repeating: 1, count: 100))
        }
    }

    func testNestedAndConcurrentLoopsComplete() {
        let pool = ThreadPool(threads: 2)
        let counts = Counts(8 * 8)
        pool.parallelFor(8) { outer in
            pool.parallelFor(8) { inner in counts.slots[outer * 8 + inner] += 1 }
        }
        XCTAssertEqual(counts.array, [Int](repeating: 1, count: 64))

        let shared = Counts(4 * 500)
        DispatchQueue.concurrentPerform(iterations: 4) { caller in
            for round in 0..<5 {
                pool.parallelFor(100) { task in shared.slots[caller * 500 + round * 100 + task] += 1 }
            }
        }
        XCTAssertEqual(shared.array, [Int](repeating: 1, count: 2000))
    }
}
