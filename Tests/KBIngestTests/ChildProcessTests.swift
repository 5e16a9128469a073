import Foundation
import XCTest
@testable import KBIngest

/// The child-process runner that keeps pdftotext's time, memory and output bounded.
final class ChildProcessTests: XCTestCase {
    private let generous = ChildProcess.Limits(seconds: 10, memoryBytes: 1 << 30, maxOutputBytes: 1 << 20)

    func testOutputErrorsAndStatusComeBack() throws {
        let output = try ChildProcess.run("sh", ["-c", "printf out; printf err >&2; exit 3"], limits: generous)
        XCTAssertEqual(String(decoding: output.stdout, as: UTF8.self), "out")
        XCTAssertEqual(output.stderr, "err")
        XCTAssertEqual(output.status, 3)
        // Arguments are passed as they are, never through a shell's parsing.
        let quoted = try ChildProcess.run("printf", ["%s", "a b; $(echo no) 'c'"], limits: generous)
        XCTAssertEqual(String(decoding: quoted.stdout, as: UTF8.self), "a b; $(echo no) 'c'")
    }

    func testAChildPastItsDeadlineIsKilled() {
        var limits = generous
        limits.seconds = 0.5
        let start = Date()
        XCTAssertThrowsError(try ChildProcess.run("sleep", ["30"], limits: limits)) { error in
            guard case .timedOut? = error as? ChildProcess.Failure else { return XCTFail("\(error)") }
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
    }

    func testTooMuchOutputKillsTheChild() {
        var limits = generous
        limits.maxOutputBytes = 100_000
        XCTAssertThrowsError(try ChildProcess.run("yes", [], limits: limits)) { error in
            guard case .outputTooLarge? = error as? ChildProcess.Failure else { return XCTFail("\(error)") }
        }
    }

    func testTheMemoryLimitHoldsInTheChild() throws {
        var limits = generous
        limits.memoryBytes = 64 << 20
        // Allocating 256 MiB under a 64 MiB address-space limit fails in the child, not in kb.
        let output = try? ChildProcess.run("python3", ["-c", "bytearray(256 << 20)"], limits: limits)
        XCTAssertNotEqual(output?.status ?? 1, 0)
    }

    func testAMissingProgramIsExitStatus127() throws {
        XCTAssertEqual(try ChildProcess.run("kb-no-such-program", [], limits: generous).status, 127)
    }
}
