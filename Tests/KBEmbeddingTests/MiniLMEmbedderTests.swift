import Foundation
import KBSupport
import XCTest
@testable import KBEmbedding

/// Holds ``MiniLMEmbedder`` to sentence-transformers' vectors in `Fixtures/minilm.json` (made by
/// scripts/fixtures/make_minilm_fixture.py) and checks that batching does not change a vector.
final class MiniLMEmbedderTests: XCTestCase {
    struct Fixture: Decodable {
        struct Sample: Decodable {
            let text: String
            let tokens: Int
            let vector: [Float]
        }

        let model: String
        let max_seq_length: Int
        let samples: [Sample]
    }

    static let modelDirectory = WordPieceTokenizerTests.modelsDirectory.appendingPathComponent("all-minilm-l6-v2")

    /// Loaded once for all tests; a missing model fails every test that needs it.
    static let shared: Result<MiniLMEmbedder, any Error> = Result {
        try MiniLMEmbedder(directory: modelDirectory, options: .init(threads: 2))
    }

    func loadEmbedder() throws -> MiniLMEmbedder {
        do {
            return try Self.shared.get()
        } catch {
            XCTFail("cannot load all-MiniLM-L6-v2 from \(Self.modelDirectory.path): \(error) "
                + "(run scripts/fetch-models.sh or set KB_MODELS_DIR)")
            throw error
        }
    }

    func loadFixture() throws -> Fixture {
        let url = try XCTUnwrap(
            Bundle.module.url(forResource: "minilm", withExtension: "json", subdirectory: "Fixtures"),
            "Fixtures/minilm.json is missing: run scripts/fixtures/make_minilm_fixture.py")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    static func dot(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

    static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        dot(a, b) / (dot(a, a).squareRoot() * dot(b, b).squareRoot())
    }

    func testDescribesTheModel() throws {
        let embedder = try loadEmbedder()
        XCTAssertEqual(embedder.name, "all-minilm-l6-v2")
        XCTAssertEqual(embedder.dimensions, 384)
        XCTAssertEqual(embedder.maxTokens, 256)
        XCTAssertEqual(embedder.fingerprint.count, 64)
        XCTAssertTrue(embedder.fingerprint.allSatisfy { "0123456789abcdef".contains($0) })
        // The documented recipe: SHA-256 of the header bytes, then the file size as 8 LE bytes.
        let file = try SafeTensorsFile(url: Self.modelDirectory.appendingPathComponent("model.safetensors"))
        let size = (0..<8).map { UInt8(truncatingIfNeeded: UInt64(file.fileSize) >> (8 * UInt64($0))) }
        XCTAssertEqual(embedder.fingerprint, ContentHash.sha256Hex(file.headerBytes + size))
    }

    func testVectorsMatchSentenceTransformers() throws {
        let embedder = try loadEmbedder()
        let fixture = try loadFixture()
        XCTAssertEqual(fixture.model, embedder.name)
        XCTAssertEqual(fixture.max_seq_length, embedder.maxTokens)
        XCTAssertGreaterThanOrEqual(fixture.samples.count, 60)
        XCTAssertGreaterThanOrEqual(fixture.samples.filter { $0.tokens == embedder.maxTokens }.count, 3, "truncated samples")
        let vectors = try embedder.embed(fixture.samples.map(\.text), kind: .passage)
        var worst: Float = 1
        for (sample, vector) in zip(fixture.samples, vectors) {
            XCTAssertEqual(embedder.tokenizer.encode(sample.text, maxLength: embedder.maxTokens).count, sample.tokens,
                           "token count of \(sample.text.debugDescription)")
            let cosine = Self.cosine(vector, sample.vector)
            worst = min(worst, cosine)
            XCTAssertGreaterThanOrEqual(cosine, 0.9999, "text: \(sample.text.debugDescription)")
        }
        print("MiniLM vs sentence-transformers: lowest cosine \(worst) over \(fixture.samples.count) texts")
    }

    func testVectorsHaveUnitLength() throws {
        let embedder = try loadEmbedder()
        let texts = ["", "a", "The quick brown fox.", String(repeating: "knowledge ", count: 400)]
        for vector in try embedder.embed(texts, kind: .query) {
            XCTAssertEqual(vector.count, 384)
            XCTAssertEqual(Self.dot(vector, vector), 1, accuracy: 1e-5)
        }
    }

    func testBatchingDoesNotChangeVectors() throws {
        let embedder = try loadEmbedder()
        // Every sixth fixture text: short and long ones, one of them truncated at 256 tokens.
        let samples = try loadFixture().samples
        let texts = samples.enumerated().filter { $0.offset % 6 == 0 }.map(\.element.text)
            + [try XCTUnwrap(samples.first { $0.tokens == embedder.maxTokens }).text]
        let single = try texts.map { try embedder.embed([$0], kind: .passage)[0] }
        // Small batches, small windows and one or two threads: every text lands in other company.
        for options in [MiniLMEmbedder.Options(threads: 1, batchTokens: 300, windowTexts: 5),
                        MiniLMEmbedder.Options(threads: 2, batchTokens: 64, windowTexts: 1000)] {
            let batched = try MiniLMEmbedder(directory: Self.modelDirectory, options: options).embed(texts, kind: .passage)
            XCTAssertEqual(batched.count, texts.count)
            for (index, (a, b)) in zip(single, batched).enumerated() {
                let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
                XCTAssertLessThanOrEqual(worst, 1e-5, "\(options): text \(index) \(texts[index].prefix(40).debugDescription)")
            }
        }
    }

    func testEmptyInputGivesNoVectors() throws {
        XCTAssertEqual(try loadEmbedder().embed([], kind: .query), [])
    }

    func testPackBatchesSortsByLengthWithinTheTokenBudget() {
        let lengths = [5, 300, 7, 7, 2, 100, 60]
        let batches = MiniLMEmbedder.packBatches(lengths: lengths, maxTokens: 100)
        XCTAssertEqual(batches, [[1], [5], [6, 2, 3, 0, 4]])
        XCTAssertEqual(batches.flatMap { $0 }.sorted(), Array(lengths.indices))
        XCTAssertEqual(MiniLMEmbedder.packBatches(lengths: [], maxTokens: 100), [])
    }

    func testMissingModelFolderThrowsNamingTheFile() {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kb-no-model-\(UUID())")
        XCTAssertThrowsError(try MiniLMEmbedder(directory: folder)) { error in
            XCTAssertEqual(error as? EmbeddingModelError, .missingFile(folder.appendingPathComponent("config.json")))
            XCTAssertTrue("\(error)".contains(folder.path), "\(error)")
        }
    }
}
