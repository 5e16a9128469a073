import Foundation
import KBTestSupport
import XCTest
@testable import KBIngest

/// PDFs made by reportlab (scripts/fixtures/make_documents.py), read through pdftotext and laid out.
final class PDFReaderTests: XCTestCase {
    private func read(_ name: String) throws -> ParsedDocument {
        try PDFReader.read(path: DocumentFixtures.path(name), fileStem: (name as NSString).deletingPathExtension)
    }

    private func paragraphs(_ expected: [String: Any]) throws -> [(page: Int, text: String)] {
        try XCTUnwrap(expected["paragraphs"] as? [[String: Any]]).map {
            (try XCTUnwrap($0["page"] as? Int), try XCTUnwrap($0["text"] as? String))
        }
    }

    func testEveryParagraphComesBackWholeInReadingOrderOnItsPage() throws {
        let document = try read("report.pdf")
        let expected = try DocumentFixtures.expected("report.pdf")
        let text = DocumentFixtures.squeezed(document.text)
        var searchFrom = text.startIndex
        var originalFrom = document.text.startIndex
        for paragraph in try paragraphs(expected) {
            // Whole: hyphenation at line ends repaired; in order: the two-column page read column by column.
            let source = DocumentFixtures.squeezed(paragraph.text)
            guard let found = text.range(of: source, range: searchFrom..<text.endIndex) else {
                XCTFail("paragraph from page \(paragraph.page) missing or out of order: \(source.prefix(60))…")
                continue
            }
            searchFrom = found.upperBound
            // The page it came from, through ParsedDocument.pages.
            let found40 = try XCTUnwrap(document.text.range(of: String(paragraph.text.prefix(40)),
                                                            range: originalFrom..<document.text.endIndex))
            originalFrom = found40.upperBound
            let offset = found40.lowerBound
            let scalarOffset = document.text.unicodeScalars.distance(from: document.text.startIndex, to: offset)
            XCTAssertEqual(document.page(atOffset: scalarOffset), paragraph.page, source.prefix(40) + "…")
        }
        XCTAssertEqual(document.pages.map(\.number), [1, 2, 3, 4, 5])
        XCTAssertEqual(document.format, .pdf)
        XCTAssertEqual(document.title, "Operations Handbook")
    }

    func testRunningHeadersFootersAndPageNumbersAreDropped() throws {
        let document = try read("report.pdf")
        for line in try XCTUnwrap(DocumentFixtures.expected("report.pdf")["dropped"] as? [String]) {
            XCTAssertFalse(document.text.contains(line), "running line kept: \(line)")
        }
        XCTAssertNil(document.text.range(of: #"Page \d of 5"#, options: .regularExpression))
        XCTAssertFalse(document.text.contains("equiva- lent"))
    }

    func testHeadingsFromTypographyAndEveryPageAsTheInnermostHeading() throws {
        let document = try read("report.pdf")
        let expected = try XCTUnwrap(DocumentFixtures.expected("report.pdf")["headings"] as? [[String: Any]])
        let real = document.headings.filter { !$0.title.hasPrefix("Page ") }
        XCTAssertEqual(real.map(\.title), expected.map { $0["title"] as? String ?? "" })
        XCTAssertEqual(real.map(\.level), expected.map { $0["level"] as? Int ?? 0 })
        // Each heading line starts at its offset in the text.
        for heading in document.headings where !heading.title.hasPrefix("Page ") {
            let start = document.text.unicodeScalars.index(document.text.unicodeScalars.startIndex, offsetBy: heading.offset)
            XCTAssertTrue(document.text.unicodeScalars[start...].starts(with: heading.title.unicodeScalars))
        }
        // Page headings sit below the deepest real level, so a chunk's heading path ends with its page.
        let pageHeadings = document.headings.filter { $0.title.hasPrefix("Page ") }
        XCTAssertEqual(Set(pageHeadings.map(\.title)), ["Page 1", "Page 2", "Page 3", "Page 4", "Page 5"])
        XCTAssertTrue(pageHeadings.allSatisfy { $0.level == 3 })
    }

    func testEveryChunkNamesItsPageInItsHeadingPath() throws {
        let document = try read("report.pdf")
        let chunks = Chunker(options: ChunkingOptions(maxTokens: 64, overlapTokens: 0), counter: try TestSupport.loadTokenizer())
            .chunk(document)
        XCTAssertGreaterThan(chunks.count, 5)
        for chunk in chunks {
            let page = try XCTUnwrap(document.page(atOffset: chunk.startOffset), "chunk outside every page")
            XCTAssertEqual(chunk.headingPath.last, "Page \(page)", "\(chunk.headingPath)")
            XCTAssertEqual(document.page(atOffset: chunk.endOffset - 1), page, "a chunk spans two pages")
        }
    }

    func testATableComesBackAsRowsOfCells() throws {
        let document = try read("table.pdf")
        let expected = try DocumentFixtures.expected("table.pdf")
        let rows = try XCTUnwrap(expected["table"] as? [[String]]).map { $0.joined(separator: " | ") }
        XCTAssertTrue(document.text.contains(rows.joined(separator: "\n")), document.text)
        for paragraph in try XCTUnwrap(expected["paragraphs"] as? [String]) {
            XCTAssertTrue(document.text.contains(paragraph), paragraph)
        }
    }

    func testChineseIsReadWithoutSpacesBetweenCharacters() throws {
        let document = try read("chinese.pdf")
        let expected = try DocumentFixtures.expected("chinese.pdf")
        for paragraph in try XCTUnwrap(expected["paragraphs"] as? [String]) {
            XCTAssertTrue(document.text.contains(paragraph), "missing: \(paragraph)")
        }
        XCTAssertEqual(document.headings.first?.title, "知识库简介")
        XCTAssertEqual(document.title, "知识库简介")
    }

    func testAPageWithoutTextLayerIsReportedAsNeedingOCR() throws {
        let document = try read("scanned.pdf")
        let expected = try DocumentFixtures.expected("scanned.pdf")
        XCTAssertTrue(document.text.contains(try XCTUnwrap(expected["text"] as? String)))
        XCTAssertEqual(document.warnings.count, 1)
        XCTAssertTrue(document.warnings[0].contains("page 1 ") && document.warnings[0].contains("OCR"), document.warnings[0])
        XCTAssertEqual(document.pages.map(\.number), [2])
    }

    func testPdftotextOutputIsScannedWithBoxesAndCharacterReferences() throws {
        let xhtml = """
            <!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "x.dtd"><html xmlns="http://www.w3.org/1999/xhtml">
            <head>
            <title>R&amp;D &lt;notes&gt;</title>
            </head>
            <body><doc>
              <page width="595.000000" height="842.000000">
                <flow>
                  <block xMin="72.000000" yMin="33.5" xMax="197.559000" yMax="41.863000">
                    <line xMin="72.000000" yMin="33.5" xMax="197.559000" yMax="41.863000">
                      <word xMin="72.000000" yMin="33.5" xMax="116.019000" yMax="41.863000">AT&amp;T&#x2019;s</word>
                      <word xMin="118.5" yMin="33.5" xMax="159.5" yMax="41.863000">&quot;x&quot;&#233;</word>
                    </line>
                  </block>
                </flow>
              </page>
              <page width="595.000000" height="842.000000">
              </page>
            </doc></body></html>
            """
        let layout = try PDFTextLayout.parse(Data(xhtml.utf8))
        XCTAssertEqual(layout.title, "R&D <notes>")
        XCTAssertEqual(layout.pages.count, 2)
        XCTAssertEqual(layout.pages[0].height, 842)
        let words = layout.pages[0].blocks.flatMap(\.lines).flatMap(\.words)
        XCTAssertEqual(words.map(\.text), ["AT&T\u{2019}s", "\"x\"é"])
        XCTAssertEqual(words[1].box, PDFTextLayout.Box(xMin: 118.5, yMin: 33.5, xMax: 159.5, yMax: 41.863))
        XCTAssertThrowsError(try PDFTextLayout.parse(Data("<page width=\"1".utf8)))
    }

    func testLayoutRules() {
        XCTAssertEqual(PDFReader.dehyphenated("a docu-", "ment here"), "a document here")
        XCTAssertNil(PDFReader.dehyphenated("the year 1999-", "2000"))
        XCTAssertNil(PDFReader.dehyphenated("Python-", "Java bridges"))
        XCTAssertEqual(PDFReader.joined(["知识", "库", "and", "kb"]), "知识库 and kb")
        for number in ["7", "Page 7", "page 7 of 9", "- 7 -", "7 / 9", "xii"] {
            XCTAssertTrue(PDFReader.isPageNumber(number), number)
        }
        for text in ["Chapter 7", "7 wonders", "Summary"] { XCTAssertFalse(PDFReader.isPageNumber(text), text) }
        XCTAssertEqual(PDFReader.pageList([1, 2, 3, 5, 7, 8]), "1–3, 5, 7–8")
        // Cells side by side on two baselines are a table; a bullet beside its item is not.
        func block(_ text: String, x: Double, y: Double) -> PDFTextLayout.Block {
            let box = PDFTextLayout.Box(xMin: x, yMin: y, xMax: x + 40, yMax: y + 10)
            return PDFTextLayout.Block(lines: [PDFTextLayout.Line(words: [PDFTextLayout.Word(text: text, box: box)], box: box)], box: box)
        }
        let table = PDFReader.tableItems([block("a", x: 0, y: 0), block("b", x: 50, y: 0), block("c", x: 0, y: 20), block("d", x: 50, y: 20)])
        guard case .table(let rows)? = table.first, table.count == 1 else { return XCTFail("no table") }
        XCTAssertEqual(rows.map { $0.map(PDFReader.blockText) }, [["a", "b"], ["c", "d"]])
        let list = PDFReader.tableItems([block("•", x: 0, y: 0), block("one", x: 50, y: 0), block("•", x: 0, y: 20), block("two", x: 50, y: 20)])
        XCTAssertEqual(list.count, 4)
    }
}
