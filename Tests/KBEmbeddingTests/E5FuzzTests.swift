import Foundation
import KBTestSupport
import XCTest
@testable import KBEmbedding

/// Bounded, seeded mutation fuzzing of the `E5S1` reader (and the tokenizer built from what it
/// read), from a small valid file made here. Opening a damaged file must throw
/// ``E5ModelFileError``; a file that opens must give its tensors and tokenize text without
/// crashing. `scripts/fuzz.sh` runs longer.
final class E5FuzzTests: XCTestCase {
    func testDamagedFilesNeverCrash() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kb-e5-fuzz-\(UUID()).bin")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        let seed = Self.smallModelFile()
        try Data(seed).write(to: url)
        XCTAssertNoThrow(try E5ModelFile(url: url), "the seed is a valid file")

        let fuzzer = ByteFuzzer(seeds: [seed], iterations: 4_000, randomSeed: 0x4535_5331)
        let summary = fuzzer.run(isExpected: { $0 is E5ModelFileError }) { bytes in
            try Data(bytes).write(to: url)
            let file = try E5ModelFile(url: url)
            _ = try? file.floats("emb.ln.w", count: 32)
            _ = try? file.q4Rows("emb.word", rows: 8, columns: 32)
            let tokenizer = SentencePieceTokenizer(file: file)
            _ = tokenizer.encode("a ab\tＡ b 中", maxLength: 16)
        }
        print("E5S1 fuzz: \(summary)")
        XCTAssertGreaterThan(summary.accepted, 0, "some mutated files still open")
    }

    /// What the fuzzer found, kept as regression cases: a tensor offset near 2^63 made the error
    /// message overflow (a crash instead of the error), and a normalization count of 2^28 with no
    /// bytes behind it reserved a table for 2^28 entries before reading any.
    func testFoundByFuzzing() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kb-e5-found-\(UUID()).bin")
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }

        try Data(Self.smallModelFile(firstTensorOffset: UInt64.max)).write(to: url)
        XCTAssertThrowsError(try E5ModelFile(url: url)) { error in
            guard case .truncated(_, let what)? = error as? E5ModelFileError else { return XCTFail("\(error)") }
            XCTAssertTrue(what.hasPrefix("tensor emb.ln.w"), what)
        }

        try Data(Self.smallModelFile(normalizationEntries: 1 << 28)).write(to: url)
        let before = ByteFuzzer.peakResidentBytes()
        XCTAssertThrowsError(try E5ModelFile(url: url)) { error in
            guard case .malformed? = error as? E5ModelFileError else { return XCTFail("\(error)") }
        }
        XCTAssertLessThan(ByteFuzzer.peakResidentBytes() - before, 64 << 20)
    }

    /// A valid `E5S1` file in the layout ``E5ModelFile`` documents: hidden 32, one layer, six pieces,
    /// two normalization entries and two tensors (a float32 LayerNorm weight and a Q4_0 embedding).
    static func smallModelFile(firstTensorOffset: UInt64? = nil, normalizationEntries: Int32 = 2) -> [UInt8] {
        var out: [UInt8] = Array("E5S1".utf8)
        func put<T: FixedWidthInteger>(_ value: T) { out += withUnsafeBytes(of: value.littleEndian, Array.init) }
        put(UInt32(1))
        for value: Int32 in [32, 1, 2, 64, 8, 16, 1] { put(value) }  // hidden … token types
        put(Float(1e-12).bitPattern)
        put(Int32(32))  // block size
        let pieces = ["<s>", "<pad>", "</s>", "<unk>", "\u{2581}a", "b"].map { Array($0.utf8) }
        put(Int32(pieces.count))
        for id: Int32 in [0, 2, 1, 3] { put(id) }  // <s>, </s>, <pad>, <unk>
        put(UInt64(pieces.reduce(0) { $0 + $1.count }))
        var offset: UInt32 = 0
        put(offset)
        for piece in pieces { offset += UInt32(piece.count); put(offset) }
        for score: Float in [0, 0, 0, 0, -1, -2] { put(score.bitPattern) }
        for piece in pieces { out += piece }
        put(normalizationEntries)
        put(UInt32(18))
        for (codePoint, replacement): (UInt32, UInt32) in [(0x09, 0x20), (0xFF21, 0x41)] {
            put(codePoint); put(UInt8(1)); put(replacement)
        }
        put(Int32(2))  // tensors
        let directoryEnd = out.count + 2 * (2 + 8 + 1 + 4 + 8 + 8)
        let tensors: [(String, UInt8, UInt32, Int)] = [("emb.ln.w", 0, 32, 4 * 32), ("emb.word", 1, 8 * 32, 8 * 18)]
        var dataOffset = directoryEnd
        for (index, (name, type, count, bytes)) in tensors.enumerated() {
            put(UInt16(name.utf8.count)); out += Array(name.utf8); put(type); put(count)
            put(index == 0 ? firstTensorOffset ?? UInt64(dataOffset) : UInt64(dataOffset))
            put(UInt64(bytes))
            dataOffset += bytes
        }
        precondition(out.count == directoryEnd)
        for i in 0..<32 { put(Float(1 + Float(i) / 32).bitPattern) }
        for block in 0..<8 { put(UInt16(0x3800)); out += (0..<16).map { UInt8(truncatingIfNeeded: block &* 16 &+ $0) } }
        return out
    }
}
