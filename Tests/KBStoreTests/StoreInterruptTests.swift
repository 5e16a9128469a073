import Foundation
import GRDB
import KBTestSupport
import XCTest
@testable import KBStore

final class StoreInterruptTests: XCTestCase {
    /// Counts to 3·10^8: about a minute of SQLite work unless interrupted.
    private let endlessCount = """
        WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 300000000) SELECT count(*) FROM c
        """

    func testCancellingStopsTheStatementOfThatThreadOnly() throws {
        let store = try KBDatabase(path: try TestSupport.temporaryDirectory(self).appendingPathComponent("kb.sqlite").path)
        let interrupt = StoreInterrupt()
        let other = StoreInterrupt()
        let finished = DispatchGroup()
        let results = ResultBox()
        for (name, flag) in [("cancelled", interrupt), ("other", other)] {
            DispatchQueue.global().async(group: finished) { [endlessCount] in
                let started = ContinuousClock.now
                do {
                    let count = try flag.run {
                        try store.pool.read { db in try Int.fetchOne(db, sql: name == "other" ? "SELECT 42" : endlessCount) }
                    }
                    results.set(name, "returned \(count ?? -1)", ContinuousClock.now - started)
                } catch {
                    results.set(name, "\(type(of: error))", ContinuousClock.now - started)
                }
            }
        }
        Thread.sleep(forTimeInterval: 0.3)
        interrupt.cancel()
        XCTAssertEqual(finished.wait(timeout: .now() + 30), .success)
        XCTAssertEqual(results.get("cancelled")?.outcome, "CancellationError")
        XCTAssertLessThan(results.get("cancelled")?.elapsed ?? .seconds(60), .seconds(5))
        XCTAssertEqual(results.get("other")?.outcome, "returned 42")
        // The connection is usable again, and work outside any interrupt is not watched.
        XCTAssertEqual(try store.pool.read { db in try Int.fetchOne(db, sql: "SELECT 7") }, 7)
    }

    func testACancelledWriteRollsBackAndLaterWritesGoThrough() throws {
        let store = try KBDatabase(path: try TestSupport.temporaryDirectory(self).appendingPathComponent("kb.sqlite").path)
        let interrupt = StoreInterrupt()
        interrupt.cancel()
        XCTAssertThrowsError(try interrupt.run {
            try store.pool.write { db in
                try db.execute(sql: "INSERT INTO settings(key, value) VALUES ('probe', 'x')")
            }
        }) { XCTAssertTrue($0 is CancellationError, "\($0)") }
        let midway = StoreInterrupt()
        XCTAssertThrowsError(try midway.run {
            try store.pool.write { db in
                try db.execute(sql: "INSERT INTO settings(key, value) VALUES ('probe', 'y')")
                midway.cancel()
                try db.execute(sql: endlessCount)
            }
        }) { XCTAssertTrue($0 is CancellationError, "\($0)") }
        XCTAssertNil(try store.pool.read { db in try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'probe'") })
        try store.pool.write { db in try db.execute(sql: "INSERT INTO settings(key, value) VALUES ('probe', 'z')") }
        XCTAssertEqual(try store.pool.read { db in try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'probe'") },
                       "z")
    }
}

private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String: (outcome: String, elapsed: Duration)] = [:]

    func set(_ name: String, _ outcome: String, _ elapsed: Duration) { lock.withLock { values[name] = (outcome, elapsed) } }
    func get(_ name: String) -> (outcome: String, elapsed: Duration)? { lock.withLock { values[name] } }
}
