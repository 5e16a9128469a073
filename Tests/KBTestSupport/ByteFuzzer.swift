import Foundation
import XCTest
import KBSupport

/// A bounded, seeded, mutation-based fuzzer for the parsers that read untrusted bytes.
///
/// Each iteration takes one of the seeds (real small inputs), applies one to four random
/// mutations (bit flips, random or boundary bytes, little-endian integers such as 2^60 or -1 over
/// length fields, inserted, deleted, duplicated or spliced ranges, truncation) and hands the
/// result to the parser, which must return or throw its typed error: a crash fails the run
/// (the process dies), and so does an input slower than `slowInputLimit` or an iteration that
/// raises the process's peak resident memory by more than `memoryGrowthLimit`.
///
/// The run is reproducible: the same seed, seeds and iteration count give the same inputs.
/// `KB_FUZZ_ITERATIONS` overrides the iteration count (scripts/fuzz.sh sets it for longer runs),
/// `KB_FUZZ_SEED` the random seed.
public struct ByteFuzzer {
    /// The inputs mutations start from.
    public var seeds: [[UInt8]]
    /// Iterations when `KB_FUZZ_ITERATIONS` is not set.
    public var iterations: Int
    /// The random seed when `KB_FUZZ_SEED` is not set.
    public var randomSeed: UInt64
    /// One input may take at most this long (a hang shows up as a slow input long before CI's limit).
    public var slowInputLimit: TimeInterval = 2
    /// The process's peak resident set may grow by at most this much over the whole run.
    public var memoryGrowthLimit = 512 << 20
    /// Mutated inputs are cut to this length, so duplication cannot grow them without bound.
    public var maximumLength = 1 << 20

    public init(seeds: [[UInt8]], iterations: Int, randomSeed: UInt64) {
        self.seeds = seeds
        self.iterations = ProcessInfo.processInfo.environment["KB_FUZZ_ITERATIONS"].flatMap(Int.init) ?? iterations
        self.randomSeed = ProcessInfo.processInfo.environment["KB_FUZZ_SEED"].flatMap(UInt64.init) ?? randomSeed
    }

    /// What a run did, for the test's log.
    public struct Summary: CustomStringConvertible {
        public var iterations = 0
        public var accepted = 0
        public var rejected = 0
        public var slowest: TimeInterval = 0
        public var description: String {
            "\(iterations) inputs: \(accepted) accepted, \(rejected) rejected, slowest \(String(format: "%.3f", slowest)) s"
        }
    }

    /// Runs `parse` on every seed, then on `iterations` mutated inputs.
    /// - Parameter parse: returns normally when the input was accepted; throws when it was
    ///   rejected; `isExpected` says whether an error is the parser's typed error.
    @discardableResult
    public func run(
        file: StaticString = #filePath, line: UInt = #line,
        isExpected: (any Error) -> Bool, _ parse: ([UInt8]) throws -> Void
    ) -> Summary {
        var random = SplitMix64(seed: randomSeed)
        var summary = Summary()
        let baseline = Self.peakResidentBytes()
        var reported = false
        for index in 0..<(seeds.count + iterations) {
            let input = index < seeds.count ? seeds[index] : mutate(&random)
            let start = Date()
            do {
                try parse(input)
                summary.accepted += 1
            } catch {
                summary.rejected += 1
                if !isExpected(error), !reported {
                    XCTFail("input \(index) (\(input.count) bytes, \(Self.hexPrefix(input))): unexpected error \(type(of: error)): \(error)",
                            file: file, line: line)
                    reported = true
                }
            }
            let elapsed = Date().timeIntervalSince(start)
            summary.slowest = max(summary.slowest, elapsed)
            summary.iterations += 1
            if elapsed > slowInputLimit {
                XCTFail("input \(index) (\(input.count) bytes, \(Self.hexPrefix(input))) took \(elapsed) s", file: file, line: line)
                break
            }
            let growth = Self.peakResidentBytes() - baseline
            if growth > memoryGrowthLimit {
                XCTFail("input \(index) (\(input.count) bytes, \(Self.hexPrefix(input))) raised peak memory by \(growth >> 20) MiB",
                        file: file, line: line)
                break
            }
        }
        return summary
    }

    // MARK: - Mutations

    /// Integers that make length and count fields interesting: zero, one, all ones, the signed
    /// limits, and powers of two that overflow a multiplication or an allocation.
    static let boundaryIntegers: [UInt64] = [
        0, 1, 2, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 1 << 28, 1 << 32,
        1 << 60, 0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, UInt64.max, UInt64.max - 31,
    ]

    /// One mutated input: one to four mutations of a random seed.
    public func mutate(_ random: inout SplitMix64) -> [UInt8] {
        var bytes = seeds[random.below(seeds.count)]
        for _ in 0...random.below(4) {
            mutateOnce(&bytes, &random)
        }
        if bytes.count > maximumLength { bytes.removeLast(bytes.count - maximumLength) }
        return bytes
    }

    private func mutateOnce(_ bytes: inout [UInt8], _ random: inout SplitMix64) {
        if bytes.isEmpty { bytes = [UInt8(truncatingIfNeeded: random.next())]; return }
        let at = random.below(bytes.count)
        switch random.below(10) {
        case 0:  // flip one bit
            bytes[at] ^= 1 << UInt8(random.below(8))
        case 1:  // a random byte
            bytes[at] = UInt8(truncatingIfNeeded: random.next())
        case 2:  // a boundary byte
            bytes[at] = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0x22, 0x3C, 0x3E, 0x0A, 0x5C][random.below(10)]
        case 3, 4:  // a boundary integer of 1, 2, 4 or 8 bytes, little-endian, over whatever is there
            let width = [1, 2, 4, 8][random.below(4)]
            let value = Self.boundaryIntegers[random.below(Self.boundaryIntegers.count)]
            for i in 0..<width where at + i < bytes.count {
                bytes[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))
            }
        case 5:  // insert random bytes
            let count = 1 + random.below(16)
            bytes.insert(contentsOf: (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }, at: at)
        case 6:  // delete a range
            let count = 1 + random.below(min(64, bytes.count - at))
            bytes.removeSubrange(at..<(at + count))
        case 7:  // duplicate a range in place
            let count = 1 + random.below(min(256, bytes.count - at))
            bytes.insert(contentsOf: bytes[at..<(at + count)], at: at)
        case 8:  // truncate
            bytes.removeSubrange(at...)
        default:  // splice: the tail of another seed from a random point
            let other = seeds[random.below(seeds.count)]
            guard !other.isEmpty else { return }
            bytes.replaceSubrange(at..., with: other[random.below(other.count)...])
        }
    }

    // MARK: - Support

    /// The process's peak resident set size (`VmHWM`), in bytes; 0 where /proc is absent.
    public static func peakResidentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kib = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kib << 10
    }

    static func hexPrefix(_ bytes: [UInt8]) -> String {
        bytes.prefix(48).map { String(format: "%02x", $0) }.joined() + (bytes.count > 48 ? "…" : "")
    }
}
