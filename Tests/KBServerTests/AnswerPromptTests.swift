import Foundation
@testable import KBSearch
@testable import KBServer
import KBTestSupport
import XCTest

/// The answer prompt's layout: a source's tokens depend on the chunk alone, sources come in a
/// stable order, and the reader's view of citations (``AnswerGrounding``).
final class AnswerPromptTests: XCTestCase {
    private func source(document: Int64, start: Int, rank: Int, text: String, title: String = "zstd") -> Citation {
        Citation(marker: rank, rank: rank, hit: SearchHit(
            uri: "doc\(document)", url: nil, title: title, score: 1 / Double(rank), text: text,
            snippet: .init(text: "", highlights: []), documentID: document, chunkID: document * 100 + Int64(start),
            ordinal: start, startOffset: start, endOffset: start + text.unicodeScalars.count, headingPath: [title, "Usage"]))
    }

    func testSourcesAreOrderedByDocumentAndPositionAndKeepTheirRank() {
        let ranked = [source(document: 9, start: 0, rank: 1, text: "a"), source(document: 2, start: 500, rank: 2, text: "b"),
                      source(document: 2, start: 10, rank: 3, text: "c")]
        let ordered = AnswerPrompt.ordered(ranked)
        XCTAssertEqual(ordered.map(\.documentID), [2, 2, 9])
        XCTAssertEqual(ordered.map(\.startOffset), [10, 500, 0])
        XCTAssertEqual(ordered.map(\.marker), [1, 2, 3])
        XCTAssertEqual(ordered.map(\.rank), [3, 2, 1])
        // The same chunks retrieved in another order give the same prompt.
        let question = "Which version of zstd does Debian ship?"
        XCTAssertEqual(AnswerPrompt.messages(question: question, history: [], sources: ordered),
                       AnswerPrompt.messages(question: question, history: [], sources: AnswerPrompt.ordered(ranked.reversed())))
    }

    /// With the real tokenizer, a chunk's tokens are the same whether it is the first or the third
    /// source and whatever the question: its marker line and label stay outside them.
    func testAChunkTokenizesTheSameAtAnyRankAndForAnyQuestion() throws {
        let path = try TestSupport.modelPath("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")
        let generator = try LocalModelGenerator(path: path)
        let chunk = source(document: 5, start: 40, rank: 1,
                           text: "Zstandard is a fast lossless compression algorithm.\n\nIt targets real-time compression.")
        let others = (1...2).map { source(document: Int64($0), start: 0, rank: $0 + 1, text: "Other package \($0): lz\($0) (Debian 12).", title: "lz\($0)") }
        let chunkTokens = generator.model.tokenizer.encodeLiteral(AnswerPrompt.sourceBlock(chunk))
        for (sources, question) in [([chunk] + others, "What is zstd?"), (others + [chunk], "Wie schnell ist zstd, 1.5?")] {
            let ordered = AnswerPrompt.ordered(sources)
            let prompt = try generator.prepare(AnswerPrompt.messages(question: question, history: [], sources: ordered))
            let tokens = try XCTUnwrap(prompt.tokens)
            XCTAssertNotNil(Self.firstIndex(of: chunkTokens, in: tokens),
                            "the chunk's tokens appear unchanged in the prompt (marker \(ordered.first { $0.documentID == 5 }!.marker))")
        }
        // The old layout ("[n] title" before the text on one line) fails this: the label's tokens
        // would be part of the chunk's, and the marker in front of them changes with the rank.
        XCTAssertFalse(AnswerPrompt.sourceBlock(chunk).contains("["))
    }

    private static func firstIndex(of needle: [Int32], in haystack: [Int32]) -> Int? {
        guard !needle.isEmpty, needle.count <= haystack.count else { return nil }
        for start in 0...(haystack.count - needle.count) where Array(haystack[start..<start + needle.count]) == needle {
            return start
        }
        return nil
    }

    func testTheSystemPromptIsFixed() {
        let a = AnswerPrompt.messages(question: "q1", history: [], sources: [source(document: 1, start: 0, rank: 1, text: "x")])
        let b = AnswerPrompt.messages(question: "q2", history: [], sources: [source(document: 2, start: 0, rank: 1, text: "y")])
        XCTAssertEqual(a.first, b.first)
        XCTAssertEqual(a.first?.role, .system)
        XCTAssertTrue(a.last?.content.hasSuffix("Question: q1") ?? false)
    }

    func testCitedTextShowsVerifiedMarkersKeepsKBsApartAndNotesAnUnsupportedAnswer() {
        let answer = "Debian ships zstd 1.5.4 [3]. It is fast [1]. Hello!"
        func citation(_ marker: Int, _ origin: SentenceCitation.Origin, replaced: Int? = nil) -> SentenceCitation {
            SentenceCitation(marker: marker, origin: origin, replacedMarker: replaced, verified: true, support: 0.8,
                             documentID: 1, chunkID: 1, startOffset: 0, endOffset: 5, text: "zstd")
        }
        let first = AttributedSentence(index: 0, start: 0, end: 28, text: "Debian ships zstd 1.5.4.",
                                       citations: [citation(1, .kb, replaced: 3)], droppedMarkers: [], supported: true, needsSupport: true)
        let second = AttributedSentence(index: 1, start: 29, end: 44, text: "It is fast.",
                                        citations: [citation(1, .model)], droppedMarkers: [], supported: true, needsSupport: true)
        let third = AttributedSentence(index: 2, start: 45, end: 51, text: "Hello!", citations: [], droppedMarkers: [],
                                       supported: false, needsSupport: false)
        let grounding = AnswerGrounding(sentences: [first, second, third])
        XCTAssertTrue(grounding.grounded)
        XCTAssertEqual(grounding.citedText(answer), "Debian ships zstd 1.5.4 [^1]. It is fast [1]. Hello!")

        let unsupported = AttributedSentence(index: 0, start: 0, end: 28, text: "Debian ships zstd 1.5.4.", citations: [],
                                             droppedMarkers: [3], supported: false, needsSupport: true)
        let ungrounded = AnswerGrounding(sentences: [unsupported])
        XCTAssertFalse(ungrounded.grounded)
        XCTAssertEqual(ungrounded.citedText("Debian ships zstd 1.5.4 [3]."),
                       "Debian ships zstd 1.5.4.\n\n" + AnswerGrounding.unsupportedNote)
        // Declining claims nothing: not grounded, and no note.
        let declined = AnswerGrounding(sentences: [AttributedSentence(index: 0, start: 0, end: 25, text: "The documents do not say.",
                                                                      citations: [], droppedMarkers: [], supported: false,
                                                                      needsSupport: false)])
        XCTAssertFalse(declined.grounded)
        XCTAssertEqual(declined.citedText("The documents do not say."), "The documents do not say.")
    }
}

/// The local engine's answers cannot open with a citation marker or end before they begin.
final class AnswerStartTests: XCTestCase {
    func testTheTokensAnAnswerCannotStartWith() throws {
        let generator = try LocalModelGenerator(path: try TestSupport.modelPath("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"))
        let tokenizer = generator.model.tokenizer
        let banned = Set(generator.answerCannotStartWith)
        for text in ["[", " [", "[1", "\n[", "\n\n", " "] {
            for id in tokenizer.encodeLiteral(text + "1] x").prefix(1) {
                XCTAssertTrue(banned.contains(id), "\(text.debugDescription) starts a marker or blank space")
            }
        }
        for text in ["The", " The", "1", "《", "Debian"] {
            XCTAssertFalse(banned.contains(tokenizer.encodeLiteral(text)[0]), "\(text.debugDescription) may start an answer")
        }
        let endOfTurn = try XCTUnwrap(tokenizer.id(of: "<|im_end|>"))
        XCTAssertTrue(banned.contains(endOfTurn), "an answer cannot be empty")
        XCTAssertLessThan(banned.count, 2_000, "only marker-like tokens, out of \(tokenizer.vocabularySize)")
    }
}
