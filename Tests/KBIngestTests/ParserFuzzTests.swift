import Foundation
import KBTestSupport
import XCTest
@testable import KBIngest

/// Bounded, seeded mutation fuzzing of the readers that see untrusted bytes: JSON Lines records
/// (also what `POST /v1/documents` parses), HTML and Markdown, each behind `TextDecoding` as in
/// ingest. A reader must return or throw ``ReadError``; a crash, a slow input or a jump in peak
/// memory fails the test (see ``ByteFuzzer``). `scripts/fuzz.sh` runs longer.
final class ParserFuzzTests: XCTestCase {
    // MARK: - JSON Lines

    static let jsonLinesSeeds: [String] = [
        #"{"id": "a-1", "title": "Backups", "text": "Nightly at 02:00.\nRestore with kb.", "url": "https://example.org/b", "metadata": {"team": "db", "n": 3}}"#,
        #"{"_id": 17, "text": "BEIR style \u00e9 \ud83c\udf0d", "metadata": null, "title": null}"#,
        #"{"id": 123456789012, "text": "", "metadata": {"nested": {"a": [1, 2.5, true, null]}}}"#,
        #"{"id": "中文", "title": "标题", "text": "检索增强生成。\r\n第二行"}"#,
        #"[{"id": "x", "text": "not an object"}]"#,
    ]

    func testJSONLinesRecordsNeverCrash() {
        let fuzzer = ByteFuzzer(seeds: Self.jsonLinesSeeds.map { Array($0.utf8) }, iterations: 20_000, randomSeed: 0x6B62_4A53)
        let summary = fuzzer.run(isExpected: { $0 is ReadError }) { bytes in
            let record = try bytes.withUnsafeBytes { try JSONLinesReader.parse(line: $0) }
            XCTAssertFalse(record.id.isEmpty)
        }
        print("JSON Lines fuzz: \(summary)")
        XCTAssertGreaterThan(summary.accepted, 0, "some mutated records are still valid")
        XCTAssertGreaterThan(summary.rejected, 0)
    }

    /// The inputs the fuzzer and schemathesis found, kept as regression cases.
    func testJSONLinesRejectsWhatTheFuzzersFound() {
        let rejected: [String: String] = [
            #"{"id": false, "text": "t"}"#: "field \"id\" must be a non-empty string or an integer",
            #"{"id": true, "text": "t"}"#: "field \"id\" must be a non-empty string or an integer",
            #"{"_id": false, "text": "t"}"#: "field \"id\" must be a non-empty string or an integer",
            #"{"id": 1e300, "text": "t"}"#: "field \"id\" must be a non-empty string or an integer",
            #"{"id": 1.5, "text": "t"}"#: "field \"id\" must be a non-empty string or an integer",
        ]
        for (line, reason) in rejected {
            XCTAssertThrowsError(try Array(line.utf8).withUnsafeBytes { try JSONLinesReader.parse(line: $0) }, line) { error in
                XCTAssertEqual(error as? ReadError, .malformedRecord(reason), line)
            }
        }
        // Integers stay ids, including 0 and 1 (which Foundation could confuse with booleans).
        for (line, id) in [(#"{"id": 0, "text": "t"}"#, "0"), (#"{"id": 1, "text": "t"}"#, "1"), (#"{"id": -7, "text": "t"}"#, "-7")] {
            XCTAssertEqual(try Array(line.utf8).withUnsafeBytes { try JSONLinesReader.parse(line: $0) }.id, id, line)
        }
    }

    func testJSONLinesDeepNestingIsAnErrorNotAStackOverflow() {
        for opener in ["[", "{\"a\":"] {
            let line = #"{"id": "deep", "text": "t", "metadata": {"x": "# + String(repeating: opener, count: 100_000)
            XCTAssertThrowsError(try Array(line.utf8).withUnsafeBytes { try JSONLinesReader.parse(line: $0) }) { error in
                XCTAssertTrue(error is ReadError, "\(error)")
            }
        }
    }

    // MARK: - HTML and Markdown

    static let htmlSeeds: [String] = [
        """
        <!DOCTYPE html><html><head><title>Caf&eacute; &amp; Tea</title><style>p { color: red }</style>
        <script>var s = "<h1>no</h1>";</script></head>
        <body><nav><a href="/">Home</a></nav><div role="navigation">Prev</div>
        <h1>Espresso<a class="headerlink" href="#e">¶</a></h1>
        <p>Hot&nbsp;water &#8212; 9&#x202F;bar &#0; &#x110000; &bogus;</p><!-- c --><![CDATA[raw <b>]]>
        <h2>Milk</h2><ul><li>steamed</li><li>foamed</li></ul><table><tr><td>a</td><th>b</th></tr></table>
        <pre>line 1
          line 2</pre><br/><img src='x>y'><svg><svg></svg></svg><?php echo 1 ?></body></html>
        """,
        "<h3 id=\"中\">标题</h3><p>正文。<b>粗</b></p><H6>End</H6",
        "<p class='a \"b'>unterminated <!-- comment",
    ]

    static let markdownSeeds: [String] = [
        """
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
        """,
        "intro\r\n\r\n# Main #\n\n###### six\n####### seven\n   # indented\n    # code\n~~~\nfenced\n~~~\nTitle\n===\n",
        "---\ntitle: 'x'\n...\n#\tTab title\n\u{301}combining\n=\n",
    ]

    func testHTMLNeverCrashesAndKeepsHeadingOffsetsInsideTheText() {
        let fuzzer = ByteFuzzer(seeds: Self.htmlSeeds.map { Array($0.utf8) }, iterations: 20_000, randomSeed: 0x6B62_4854)
        let summary = fuzzer.run(isExpected: { $0 is ReadError }) { bytes in
            let text = try bytes.withUnsafeBytes { try TextDecoding.decode($0, strict: false) }.text
            let document = HTMLReader.parse(text, fileStem: "page")
            Self.checkHeadings(document)
        }
        print("HTML fuzz: \(summary)")
    }

    func testMarkdownNeverCrashesAndKeepsHeadingOffsetsInsideTheText() {
        let fuzzer = ByteFuzzer(seeds: Self.markdownSeeds.map { Array($0.utf8) }, iterations: 20_000, randomSeed: 0x6B62_4D44)
        let summary = fuzzer.run(isExpected: { $0 is ReadError }) { bytes in
            let text = try bytes.withUnsafeBytes { try TextDecoding.decode($0, strict: false) }.text
            let document = MarkdownReader.parse(text, fileStem: "notes")
            XCTAssertEqual(document.text, text)
            Self.checkHeadings(document)
        }
        print("Markdown fuzz: \(summary)")
    }

    /// A long heading without its end tag: each character used to copy the heading so far
    /// (quadratic: 4x the characters took 40x the time, about 100 s for these 2 million); now linear.
    func testHTMLLongUnclosedHeadingIsLinear() {
        let html = "<h1>" + String(repeating: "word ", count: 400_000)
        let start = Date()
        let document = HTMLReader.parse(html, fileStem: "long")
        XCTAssertEqual(document.headings.count, 1)
        XCTAssertEqual(document.headings.first?.title.count, 5 * 400_000 - 1)
        XCTAssertLessThan(Date().timeIntervalSince(start), 20)
    }

    static func checkHeadings(_ document: ParsedDocument, file: StaticString = #filePath, line: UInt = #line) {
        let length = document.text.unicodeScalars.count
        var previous = 0
        for heading in document.headings {
            XCTAssertTrue((0...length).contains(heading.offset), "heading offset \(heading.offset) outside 0...\(length)", file: file, line: line)
            XCTAssertGreaterThanOrEqual(heading.offset, previous, "headings out of order", file: file, line: line)
            XCTAssertTrue((1...6).contains(heading.level), "level \(heading.level)", file: file, line: line)
            previous = heading.offset
        }
        XCTAssertFalse(document.title.isEmpty, file: file, line: line)
    }
}
