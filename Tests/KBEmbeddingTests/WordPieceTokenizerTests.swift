import Foundation
import KBTestSupport
import XCTest
@testable import KBEmbedding

/// Holds ``WordPieceTokenizer`` to the Hugging Face `tokenizers` reference encodings in
/// `Fixtures/wordpiece.json` (made by scripts/fixtures/make_wordpiece_fixture.py).
final class WordPieceTokenizerTests: XCTestCase {
    struct Sample: Decodable {
        let text: String
        let ids: [Int32]
    }

    struct MissingModel: Error, CustomStringConvertible {
        let path: String
        var description: String {
            "all-MiniLM-L6-v2 vocabulary not found at \(path): run scripts/fetch-models.sh "
                + "(or point KB_MODELS_DIR at the models folder)"
        }
    }

    /// The test models (one home: ``TestSupport/modelsDirectory``).
    static var modelsDirectory: URL { TestSupport.modelsDirectory }

    static let vocabularyFile = modelsDirectory.appendingPathComponent("all-minilm-l6-v2/vocab.txt")

    /// Loaded once for all tests; a missing model fails every test that needs it.
    static let shared: Result<WordPieceTokenizer, any Error> = Result {
        guard FileManager.default.fileExists(atPath: vocabularyFile.path) else {
            throw MissingModel(path: vocabularyFile.path)
        }
        return try WordPieceTokenizer(vocabularyFile: vocabularyFile)
    }

    func loadTokenizer() throws -> WordPieceTokenizer {
        do {
            return try Self.shared.get()
        } catch {
            XCTFail("\(error)")
            throw error
        }
    }

    func loadSamples() throws -> [Sample] {
        let url = try XCTUnwrap(
            Bundle.module.url(forResource: "wordpiece", withExtension: "json", subdirectory: "Fixtures"),
            "Fixtures/wordpiece.json is missing: run scripts/fixtures/make_wordpiece_fixture.py")
        let samples = try JSONDecoder().decode([Sample].self, from: Data(contentsOf: url))
        XCTAssertGreaterThanOrEqual(samples.count, 60)
        return samples
    }

    func testVocabularyHasTheMiniLMSize() throws {
        XCTAssertEqual(try loadTokenizer().vocabularySize, 30_522)
    }

    func testEncodingMatchesReferenceIDs() throws {
        let tokenizer = try loadTokenizer()
        for sample in try loadSamples() {
            XCTAssertEqual(tokenizer.encode(sample.text), sample.ids, "text: \(sample.text.debugDescription)")
        }
    }

    func testCountTokensEqualsTokenizeAndUntruncatedEncode() throws {
        let tokenizer = try loadTokenizer()
        for sample in try loadSamples() {
            let pieces = tokenizer.tokenize(sample.text)
            let ids = tokenizer.encode(sample.text, maxLength: .max)
            XCTAssertEqual(tokenizer.countTokens(sample.text), pieces.count, "text: \(sample.text.debugDescription)")
            XCTAssertEqual(ids.count - 2, pieces.count, "text: \(sample.text.debugDescription)")
            XCTAssertEqual(pieces, ids.dropFirst().dropLast().map { tokenizer.tokens[Int($0)] })
        }
    }

    func testTokenizeStripsAccentsAndMarksContinuations() throws {
        let tokenizer = try loadTokenizer()
        XCTAssertEqual(tokenizer.tokenize("Café Ångström, naïve!"), ["cafe", "ang", "##strom", ",", "naive", "!"])
        XCTAssertEqual(tokenizer.tokenize(""), [])
        XCTAssertEqual(tokenizer.tokenize(String(repeating: "a", count: 101)), ["[UNK]"])
    }

    func testEncodeTruncatesToMaxLength() throws {
        let tokenizer = try loadTokenizer()
        let text = String(repeating: "knowledge base ", count: 50)
        let full = tokenizer.encode(text, maxLength: .max)
        let cut = tokenizer.encode(text, maxLength: 10)
        XCTAssertEqual(full.count, 102)
        XCTAssertEqual(cut, Array(full.prefix(9)) + [tokenizer.separatorID])
        XCTAssertEqual(tokenizer.encode(text, maxLength: 0), [tokenizer.classifierID, tokenizer.separatorID])
    }

    func testMissingVocabularyFileThrowsNamingTheFile() {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kb-no-such-vocab-\(UUID()).txt")
        XCTAssertThrowsError(try WordPieceTokenizer(vocabularyFile: file)) { error in
            guard case WordPieceVocabularyError.unreadableVocabulary(let named, _) = error else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(named, file)
            XCTAssertTrue("\(error)".contains(file.path), "\(error)")
        }
    }

    func testEmptyVocabularyFileThrowsNamingTheFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kb-empty-vocab-\(UUID()).txt")
        try Data().write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        XCTAssertThrowsError(try WordPieceTokenizer(vocabularyFile: file)) { error in
            XCTAssertEqual(error as? WordPieceVocabularyError, .emptyVocabulary(file: file))
            XCTAssertTrue("\(error)".contains(file.path), "\(error)")
        }
    }

    func testVocabularyWithoutUnknownTokenThrows() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kb-small-vocab-\(UUID()).txt")
        try Data("[PAD]\n[CLS]\n[SEP]\nhello\n".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        XCTAssertThrowsError(try WordPieceTokenizer(vocabularyFile: file)) { error in
            XCTAssertEqual(error as? WordPieceVocabularyError, .missingSpecialToken("[UNK]", file: file))
        }
    }
}
