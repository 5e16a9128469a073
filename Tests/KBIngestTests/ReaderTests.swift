import Foundation
import XCTest
@testable import KBIngest

final class ReaderTests: XCTestCase {
    private func scalarOffset(of needle: String, in text: String) -> Int? {
        guard let range = text.range(of: needle) else { return nil }
        return text.unicodeScalars.distance(from: text.unicodeScalars.startIndex, to: range.lowerBound)
    }

    func testMarkdownHeadingsOutsideCodeFencesBecomeStructure() {
        let text = """
            ---
            title: "Operations Guide"
            ---
            # Backups

            Nightly.

            ```sh
            # not a heading
            ```

            ## Restore ##
            Steps.

            Setext Title
            ------------
            """
        let doc = MarkdownReader.parse(text, fileStem: "guide")
        XCTAssertEqual(doc.title, "Operations Guide")
        XCTAssertEqual(doc.headings.map(\.title), ["Backups", "Restore", "Setext Title"])
        XCTAssertEqual(doc.headings.map(\.level), [1, 2, 2])
        XCTAssertEqual(doc.headings[1].offset, scalarOffset(of: "## Restore", in: text))
        XCTAssertEqual(doc.headings[2].offset, scalarOffset(of: "Setext Title", in: text))
        XCTAssertEqual(doc.text, text, "Markdown is stored as written")
    }

    func testMarkdownTitleFallsBackToFirstH1ThenFileName() {
        XCTAssertEqual(MarkdownReader.parse("intro\n\n# Main\n", fileStem: "f").title, "Main")
        XCTAssertEqual(MarkdownReader.parse("## Only h2\n", fileStem: "notes").title, "notes")
    }

    func testHTMLKeepsVisibleTextAndHeadingsAndDropsScriptsStylesAndNavigation() {
        let html = """
            <!DOCTYPE html><html><head><title>Caf&eacute; &amp; Tea</title><style>p { color: red }</style>
            <script>var secret = "do not index";</script></head>
            <body><nav><a href="/">Home</a> | <a href="/x">Menu</a></nav>
            <div role="navigation">Previous topic</div>
            <h1>Espresso<a class="headerlink" href="#e">¶</a></h1>
            <p>Hot   water&nbsp;through <b>fine</b> coffee &#8212; 9&#x202F;bar.</p>
            <!-- a comment -->
            <h2>Milk</h2><ul><li>steamed</li><li>foamed</li></ul>
            <pre>line 1
              line 2</pre>
            </body></html>
            """
        let doc = HTMLReader.parse(html, fileStem: "page")
        XCTAssertEqual(doc.title, "Café & Tea")
        XCTAssertFalse(doc.text.contains("do not index"))
        XCTAssertFalse(doc.text.contains("color"))
        XCTAssertFalse(doc.text.contains("Menu"))
        XCTAssertFalse(doc.text.contains("Previous topic"))
        XCTAssertFalse(doc.text.contains("a comment"))
        XCTAssertTrue(doc.text.contains("Hot water through fine coffee — 9 bar."), doc.text)  // NBSPs fold to spaces
        XCTAssertTrue(doc.text.contains("steamed\nfoamed"), doc.text)
        XCTAssertTrue(doc.text.contains("line 1\n  line 2"), doc.text)
        XCTAssertEqual(doc.headings.map(\.title), ["Espresso", "Milk"])
        XCTAssertEqual(doc.headings.map(\.level), [1, 2])
        let scalars = Array(doc.text.unicodeScalars)
        let milk = doc.headings[1].offset
        XCTAssertEqual(String(String.UnicodeScalarView(scalars[milk..<(milk + 4)])), "Milk")
    }

    func testMalformedHTMLNeverFails() {
        for html in ["<", "<<>>", "<p", "<!--", "<script>unclosed", "&#xZZ; &#0; &bogus;", "</div></div>text"] {
            let doc = HTMLReader.parse(html, fileStem: "x")
            XCTAssertEqual(doc.format, .html)
        }
        XCTAssertEqual(HTMLReader.parse("a &lt; b &#0; &bogus;", fileStem: "x").text, "a < b \u{FFFD} &bogus;")
    }

    func testJSONLinesRecordFields() throws {
        let line = #"{"id": "faq-1", "title": "Reset", "text": "Hold the button.\r\nRelease.", "url": "https://x/faq#1", "metadata": {"team": "ops", "rank": 2}}"#
        let record = try Array(line.utf8).withUnsafeBytes { try JSONLinesReader.parse(line: $0) }
        XCTAssertEqual(record.id, "faq-1")
        XCTAssertEqual(record.document.title, "Reset")
        XCTAssertEqual(record.document.text, "Hold the button.\nRelease.")
        XCTAssertEqual(record.document.url, "https://x/faq#1")
        XCTAssertEqual(record.document.metadataJSON, #"{"rank":2,"team":"ops"}"#)
    }

    func testJSONLinesAcceptsBEIRStyleIntegerAndUnderscoreIDs() throws {
        let a = try Array(#"{"_id": "d1", "text": "x"}"#.utf8).withUnsafeBytes { try JSONLinesReader.parse(line: $0) }
        XCTAssertEqual(a.id, "d1")
        XCTAssertEqual(a.document.title, "d1")
        let b = try Array(#"{"id": 42, "text": "x"}"#.utf8).withUnsafeBytes { try JSONLinesReader.parse(line: $0) }
        XCTAssertEqual(b.id, "42")
    }

    func testJSONLinesErrorsSayWhatIsWrong() {
        let cases: [(String, String)] = [
            (#"{"id": "a", "text": "b""#, "invalid JSON"),
            (#"["not", "an", "object"]"#, "expected a JSON object"),
            (#"{"text": "no id"}"#, "missing required field \"id\""),
            (#"{"id": "a"}"#, "missing required field \"text\""),
            (#"{"id": "a", "text": 5}"#, "field \"text\" must be a string"),
            (#"{"id": "a", "text": "t", "metadata": [1]}"#, "field \"metadata\" must be a JSON object"),
            (#"{"id": "", "text": "t"}"#, "field \"id\" must be a non-empty string or an integer"),
        ]
        for (line, expected) in cases {
            XCTAssertThrowsError(try Array(line.utf8).withUnsafeBytes { try JSONLinesReader.parse(line: $0) }, line) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(line): \(error)")
            }
        }
    }

    func testDecodingStripsBOMNormalisesLineEndingsAndRepairsInvalidUTF8() throws {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("one\r\ntwo\rthree".utf8)
        let decoded = try bom.withUnsafeBytes { try TextDecoding.decode($0, strict: false) }
        XCTAssertEqual(decoded.text, "one\ntwo\nthree")
        XCTAssertEqual(decoded.repairedSequences, 0)

        let invalid: [UInt8] = Array("caf".utf8) + [0xE9] + Array(" ok ".utf8) + [0xFF, 0xFE]
        let repaired = try invalid.withUnsafeBytes { try TextDecoding.decode($0, strict: false) }
        XCTAssertEqual(repaired.text, "caf\u{FFFD} ok \u{FFFD}\u{FFFD}")
        XCTAssertEqual(repaired.repairedSequences, 3)
        XCTAssertThrowsError(try invalid.withUnsafeBytes { try TextDecoding.decode($0, strict: true) }) { error in
            XCTAssertEqual(error as? ReadError, .invalidUTF8(invalidSequences: 3))
        }
    }

    func testNULBytesMeanBinary() {
        let bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x00, 0x01]
        XCTAssertThrowsError(try bytes.withUnsafeBytes { try TextDecoding.decode($0, strict: false) }) { error in
            XCTAssertEqual(error as? ReadError, .binary)
        }
    }
}
