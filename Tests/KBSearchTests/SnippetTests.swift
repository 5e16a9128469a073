import XCTest
@testable import KBSearch

final class SnippetTests: XCTestCase {
    func testShortTextIsShownWholeWithMatchesMarked() {
        let snippet = Snippet.make(text: "Backups run nightly; the backup archive is kept.", terms: [.word("backup")])
        XCTAssertEqual(snippet.text, "Backups run nightly; the backup archive is kept.")
        XCTAssertEqual(snippet.highlights, [HighlightSpan(start: 0, end: 7), HighlightSpan(start: 25, end: 31)])
    }

    func testLongTextIsCutAroundTheDensestMatchesWithEllipses() {
        let filler = String(repeating: "lorem ipsum dolor ", count: 40)
        let text = filler + "the replica and the failover node agree" + " " + filler
        let snippet = Snippet.make(text: text, terms: [.word("replica"), .word("failover")], maxScalars: 120)
        XCTAssertTrue(snippet.text.hasPrefix("…"))
        XCTAssertTrue(snippet.text.hasSuffix("…"))
        XCTAssertLessThanOrEqual(snippet.text.unicodeScalars.count, 122)
        XCTAssertEqual(snippet.highlights.count, 2)
        let scalars = Array(snippet.text.unicodeScalars)
        let marked = snippet.highlights.map { String(String.UnicodeScalarView(scalars[$0.start..<$0.end])) }
        XCTAssertEqual(marked, ["replica", "failover"])
    }

    func testIdeographPhrasesAreHighlighted() {
        let snippet = Snippet.make(text: "全文检索引擎支持检索。", terms: [.ideographs(Array("检索".unicodeScalars))])
        XCTAssertEqual(snippet.highlights, [HighlightSpan(start: 2, end: 4), HighlightSpan(start: 8, end: 10)])
    }

    func testNoTermsMeansNoHighlights() {
        XCTAssertEqual(Snippet.make(text: "plain", terms: []).highlights, [])
    }
}
