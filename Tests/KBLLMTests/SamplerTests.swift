import Foundation
import XCTest
@testable import KBLLM
import KBSupport

/// Holds ``Sampler`` to hand-computed distributions and llama.cpp's rules for each step.
final class SamplerTests: XCTestCase {
    /// Logits whose softmax is exactly `probabilities` (up to float rounding).
    func logits(_ probabilities: [Double]) -> [Float] { probabilities.map { Float(log($0)) } }

    func parameters(temperature: Float = 1, topK: Int = 0, topP: Float = 1, minP: Float = 0) -> SamplingParameters {
        var parameters = SamplingParameters()
        parameters.temperature = temperature
        parameters.topK = topK
        parameters.topP = topP
        parameters.minP = minP
        return parameters
    }

    // MARK: - Random source

    func testSplitMixMatchesPublishedSequenceForSeedZero() {
        var mixer = SplitMix64(seed: 0)
        XCTAssertEqual(mixer.next(), 0xE220_A839_7B1D_CDAF)
        XCTAssertEqual(mixer.next(), 0x6E78_9E6A_A1B9_65F4)
        XCTAssertEqual(mixer.next(), 0x06C4_5D18_8009_454F)
    }

    func testRandomSourceRepeatsForASeedAndIsUniform() {
        var a = RandomSource(seed: 42), b = RandomSource(seed: 42), c = RandomSource(seed: 43)
        let first = (0..<8).map { _ in a.next() }
        XCTAssertEqual(first, (0..<8).map { _ in b.next() })
        XCTAssertNotEqual(first, (0..<8).map { _ in c.next() })
        var sum = 0.0
        var buckets = [Int](repeating: 0, count: 10)
        for _ in 0..<100_000 {
            let u = a.nextUnitDouble()
            XCTAssert(u >= 0 && u < 1)
            sum += u
            buckets[Int(u * 10)] += 1
        }
        XCTAssertEqual(sum / 100_000, 0.5, accuracy: 0.005)
        for count in buckets { XCTAssertEqual(Double(count), 10_000, accuracy: 400) }
    }

    // MARK: - Greedy

    func testGreedyTakesTheLargestLogitAndTheLowestIdAmongTies() throws {
        var sampler = try Sampler(parameters: .greedy)
        XCTAssertEqual(sampler.sample([0.1, 3, -1, 2.9]), 1)
        XCTAssertEqual(sampler.sample([5, 1, 5, 5]), 0)
        XCTAssertEqual(sampler.sample([-.infinity, .nan, -3, -2]), 3)
    }

    func testGreedyUsesPenalisedLogits() throws {
        var parameters = SamplingParameters.greedy
        parameters.repetitionPenalty = 2
        var sampler = try Sampler(parameters: parameters)
        sampler.accept(0)
        // Token 0 falls from 3 to 1.5, below token 2's 2.
        XCTAssertEqual(sampler.sample([3, 0, 2]), 2)
    }

    // MARK: - Penalties

    func testPenaltiesChangeSeenTokensByTheRightAmounts() throws {
        var parameters = SamplingParameters()
        parameters.repetitionPenalty = 2
        parameters.frequencyPenalty = 0.1
        parameters.presencePenalty = 0.3
        var sampler = try Sampler(parameters: parameters)
        sampler.accept([0, 1, 0])
        var logits: [Float] = [2, -2, 1, 0.5]
        sampler.applyPenalties(to: &logits)
        XCTAssertEqual(logits[0], 2 / 2 - 2 * 0.1 - 0.3, accuracy: 1e-6)  // positive: divided; seen twice
        XCTAssertEqual(logits[1], -2 * 2 - 1 * 0.1 - 0.3, accuracy: 1e-6)  // negative: multiplied; seen once
        XCTAssertEqual(logits[2], 1)
        XCTAssertEqual(logits[3], 0.5)
    }

    func testPenaltyWindowForgetsOlderTokens() throws {
        var parameters = SamplingParameters()
        parameters.presencePenalty = 1
        parameters.penaltyWindow = 2
        var sampler = try Sampler(parameters: parameters)
        sampler.accept([0, 1, 2])  // 0 has left the window
        var logits: [Float] = [0, 0, 0, 0]
        sampler.applyPenalties(to: &logits)
        XCTAssertEqual(logits, [0, -1, -1, 0])

        var ring = RecentTokens(capacity: 3)
        for token: Int32 in [1, 2, 3, 4, 5] { ring.append(token) }
        XCTAssertEqual(ring.tokens, [3, 4, 5])
    }

    // MARK: - Filters

    func testTopKKeepsTheKBestSortedWithTiesByLowerId() {
        let logits: [Float] = [0.5, 3, -1, 3, 2, 0.7, 9, -4]
        let kept = Sampler.topK(logits, 4)
        XCTAssertEqual(kept.map(\.token), [6, 1, 3, 4])
        XCTAssertEqual(Sampler.topK(logits, 0).map(\.token), [6, 1, 3, 4, 5, 0, 2, 7])
        XCTAssertEqual(Sampler.topK(logits, 100).count, 8)

        // Against a full sort on a large random vector.
        var random = RandomSource(seed: 7)
        let big = (0..<5_000).map { _ in Float(random.nextUnitDouble() * 20 - 10) }
        let expected = big.enumerated().sorted { $0.element > $1.element }.prefix(40).map { Int32($0.offset) }
        XCTAssertEqual(Sampler.topK(big, 40).map(\.token), expected)
    }

    func testTopPKeepsTheSmallestPrefixReachingP() {
        let all = Sampler.topK(logits([0.5, 0.2, 0.15, 0.1, 0.05]), 0)
        for (p, count) in [(0.4, 1), (0.6, 2), (0.75, 3), (0.9, 4), (0.97, 5), (1.0, 5)] as [(Float, Int)] {
            var candidates = all
            Sampler.topP(&candidates, p)
            XCTAssertEqual(candidates.map(\.token), Array(0..<Int32(count)), "top-p \(p)")
        }
    }

    func testMinPKeepsTokensAtLeastPTimesTheBest() {
        let all = Sampler.topK(logits([0.05, 0.5, 0.1, 0.2, 0.15]), 0)
        for (p, kept) in [(0.25, [1, 3, 4]), (0.32, [1, 3]), (0.5, [1]), (0.05, [1, 3, 4, 2, 0]), (0, [1, 3, 4, 2, 0])]
            as [(Float, [Int32])]
        {
            var candidates = all
            Sampler.minP(&candidates, p)
            XCTAssertEqual(candidates.map(\.token), kept, "min-p \(p)")
        }
    }

    // MARK: - Draws

    /// Draw frequencies over many seeded draws against the expected distribution.
    func assertFrequencies(_ parameters: SamplingParameters, logits: [Float], expected: [Double],
                           draws: Int = 60_000, line: UInt = #line) throws {
        var sampler = try Sampler(parameters: parameters)
        var counts = [Int](repeating: 0, count: logits.count)
        for _ in 0..<draws { counts[Int(sampler.sample(logits))] += 1 }
        for (token, probability) in expected.enumerated() {
            let frequency = Double(counts[token]) / Double(draws)
            // 4 standard deviations of a binomial proportion, at least 0.002.
            let tolerance = max(0.002, 4 * (probability * (1 - probability) / Double(draws)).squareRoot())
            XCTAssertEqual(frequency, probability, accuracy: tolerance, "token \(token)", line: line)
        }
    }

    func testDrawFrequenciesMatchTheTemperedSoftmax() throws {
        let logits: [Float] = [1, 2, 0.5, -1]
        let t = 0.7
        let weights = logits.map { exp(Double($0) / t) }
        let expected = weights.map { $0 / weights.reduce(0, +) }
        try assertFrequencies(parameters(temperature: 0.7), logits: logits, expected: expected)
    }

    func testFiltersRunBeforeTemperature() throws {
        // p = [0.5, 0.2, 0.15, 0.1, 0.05]: top-p 0.6 keeps tokens 0 and 1 (decided before the
        // temperature of 2 flattens them to √0.5 : √0.2).
        let expectedZero = 0.5.squareRoot() / (0.5.squareRoot() + 0.2.squareRoot())
        try assertFrequencies(parameters(temperature: 2, topP: 0.6), logits: logits([0.5, 0.2, 0.15, 0.1, 0.05]),
                              expected: [expectedZero, 1 - expectedZero, 0, 0, 0])
        // top-k 3, then min-p 0.35 drops token 2 (0.15 < 0.35 × 0.5); temperature 1.
        try assertFrequencies(parameters(topK: 3, minP: 0.35), logits: logits([0.5, 0.2, 0.15, 0.1, 0.05]),
                              expected: [0.5 / 0.7, 0.2 / 0.7, 0, 0, 0])
    }

    func testTheSameSeedDrawsTheSameTokens() throws {
        var random = RandomSource(seed: 1)
        let logits = (0..<1_000).map { _ in Float(random.nextUnitDouble() * 8) }
        func run(seed: UInt64) throws -> [Int32] {
            var parameters = SamplingParameters()
            parameters.seed = seed
            parameters.repetitionPenalty = 1.1
            var sampler = try Sampler(parameters: parameters)
            return (0..<50).map { _ in
                let token = sampler.sample(logits)
                sampler.accept(token)
                return token
            }
        }
        XCTAssertEqual(try run(seed: 9), try run(seed: 9))
        XCTAssertNotEqual(try run(seed: 9), try run(seed: 10))
    }

    // MARK: - Validation

    func testOutOfRangeParametersAreRejectedByName() {
        func error(_ change: (inout SamplingParameters) -> Void) -> String? {
            var parameters = SamplingParameters()
            change(&parameters)
            do {
                _ = try Sampler(parameters: parameters)
                return nil
            } catch {
                return (error as? SamplingError)?.parameter
            }
        }
        XCTAssertEqual(error { $0.temperature = -1 }, "temperature")
        XCTAssertEqual(error { $0.temperature = .nan }, "temperature")
        XCTAssertEqual(error { $0.topK = -2 }, "top-k")
        XCTAssertEqual(error { $0.topP = 0 }, "top-p")
        XCTAssertEqual(error { $0.topP = 1.5 }, "top-p")
        XCTAssertEqual(error { $0.minP = 2 }, "min-p")
        XCTAssertEqual(error { $0.repetitionPenalty = 0 }, "repetition penalty")
        XCTAssertEqual(error { $0.penaltyWindow = -1 }, "penalty window")
        XCTAssertNil(error { _ in })
    }
}
