import Foundation
import Hummingbird
@testable import KBSearch
@testable import KBServer
import XCTest

final class GenerationQueueTests: XCTestCase {
    func testSlotsPassInOrderAndTheWaitingRoomIsBounded() async throws {
        let queue = GenerationQueue(maxConcurrent: 2, maxWaiting: 1)
        try await queue.acquire()
        try await queue.acquire()
        XCTAssertEqual(queue.counts.active, 2)
        let waiter = Task { try await queue.acquire() }
        try await waitUntil { queue.counts.waiting == 1 }
        do {
            try await queue.acquire()
            XCTFail("a full waiting room must refuse")
        } catch let full as GenerationQueue.Full {
            XCTAssertGreaterThanOrEqual(full.retryAfter, 1)
        }
        queue.release(seconds: 1)
        try await waiter.value
        XCTAssertEqual(queue.counts.active, 2)
        XCTAssertEqual(queue.counts.waiting, 0)
        queue.release()
        queue.release()
        XCTAssertEqual(queue.counts.active, 0)
    }

    func testCancelledWaiterLeavesTheQueue() async throws {
        let queue = GenerationQueue(maxConcurrent: 1, maxWaiting: 4)
        try await queue.acquire()
        let waiter = Task { try await queue.acquire() }
        try await waitUntil { queue.counts.waiting == 1 }
        waiter.cancel()
        do {
            try await waiter.value
            XCTFail("cancelled waiting must throw")
        } catch is CancellationError {}
        XCTAssertEqual(queue.counts.waiting, 0)
        queue.release()
        XCTAssertEqual(queue.counts.active, 0)
    }

    /// A streamed answer's slot is taken in the route and owned by the response body; when the
    /// client resets the connection before the head is written, the body never runs. The slot must
    /// go back all the same (it used to stay taken for good, and with one slot answering stopped).
    func testASlotGoesBackOnceWhenItsOwnerIsDroppedUnused() async throws {
        let queue = GenerationQueue(maxConcurrent: 1, maxWaiting: 0)
        do {
            try await queue.acquire()
            let slot = GenerationSlot(takenFrom: queue)
            let body = ResponseBody { writer in   // captures the slot, as the streaming body does
                slot.release()
                try await writer.finish(nil)
            }
            XCTAssertEqual(queue.counts.active, 1)
            _ = body
        }
        XCTAssertEqual(queue.counts.active, 0, "the dropped body gave its slot back")

        try await queue.acquire()
        let slot = GenerationSlot(takenFrom: queue)
        slot.release(seconds: 1)
        slot.release(seconds: 1)
        XCTAssertTrue(slot.isReleased)
        XCTAssertEqual(queue.counts.active, 0, "released once, not twice")
        try await queue.acquire()
        XCTAssertEqual(queue.counts.active, 1, "a second release would have freed this one too")
        withExtendedLifetime(slot) {}
        XCTAssertEqual(queue.counts.active, 1)
        queue.release()
    }
}
