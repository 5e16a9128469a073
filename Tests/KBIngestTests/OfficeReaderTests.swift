import Foundation
import XCTest
@testable import KBIngest

/// DOCX, PPTX and XLSX made by python-docx, python-pptx and openpyxl (scripts/fixtures/make_documents.py).
final class OfficeReaderTests: XCTestCase {
    private func read(_ name: String) throws -> ParsedDocument {
        let path = try DocumentFixtures.path(name)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let format = DocumentFormat(fileExtension: (name as NSString).pathExtension)
        return try XCTUnwrap(BinaryDocumentReader.read(path: path, data: data, declared: format,
                                                       fileStem: (name as NSString).deletingPathExtension))
    }

    func testDOCXKeepsHeadingsFromStylesListsAndTableCells() throws {
        let document = try read("handbook.docx")
        let expected = try DocumentFixtures.expected("handbook.docx")
        XCTAssertEqual(document.format, .docx)
        XCTAssertEqual(document.title, expected["title"] as? String)
        let headings = try XCTUnwrap(expected["headings"] as? [[String: Any]])
        XCTAssertEqual(document.headings.map(\.title), headings.map { $0["title"] as? String ?? "" })
        XCTAssertEqual(document.headings.map(\.level), headings.map { $0["level"] as? Int ?? 0 })
        for paragraph in try XCTUnwrap(expected["paragraphs"] as? [String]) {
            XCTAssertTrue(document.text.contains(paragraph), "missing: \(paragraph.prefix(60))")
        }
        for item in try XCTUnwrap(expected["list"] as? [String]) {
            XCTAssertTrue(document.text.contains("- " + item), "list item: \(item)")
        }
        let rows = try XCTUnwrap(expected["table"] as? [[String]]).map { $0.joined(separator: " | ") }
        XCTAssertTrue(document.text.contains(rows.joined(separator: "\n")), "table rows and cells")
        XCTAssertTrue(document.warnings.isEmpty)
    }

    func testPPTXHasOneSectionPerSlideWithSpeakerNotes() throws {
        let document = try read("review.pptx")
        let slides = try XCTUnwrap(DocumentFixtures.expected("review.pptx")["slides"] as? [[String: Any]])
        XCTAssertEqual(document.format, .pptx)
        XCTAssertEqual(document.headings.map(\.title),
                       slides.enumerated().map { "Slide \($0.offset + 1): \($0.element["title"] as? String ?? "")" })
        XCTAssertTrue(document.headings.allSatisfy { $0.level == 1 })
        for (index, slide) in slides.enumerated() {
            let start = document.headings[index].offset
            let end = index + 1 < document.headings.count ? document.headings[index + 1].offset : document.text.unicodeScalars.count
            let scalars = Array(document.text.unicodeScalars)[start..<end]
            let section = String(String.UnicodeScalarView(scalars))
            for bullet in slide["bullets"] as? [String] ?? [] { XCTAssertTrue(section.contains(bullet), bullet) }
            if let notes = slide["notes"] as? String, !notes.isEmpty {
                XCTAssertTrue(section.contains("Notes: " + notes), "notes of slide \(index + 1)")
            }
        }
        XCTAssertEqual(document.title, "Quarterly Review")
    }

    func testXLSXHasOneSectionPerSheetWithTheHeaderRow() throws {
        let document = try read("hours.xlsx")
        let sheets = try XCTUnwrap(DocumentFixtures.expected("hours.xlsx")["sheets"] as? [[String: Any]])
        XCTAssertEqual(document.format, .xlsx)
        XCTAssertEqual(document.headings.map(\.title), sheets.map { "Sheet: \($0["name"] as? String ?? "")" })
        for sheet in sheets {
            let rows = (sheet["rows"] as? [[String]] ?? []).map { $0.joined(separator: " | ") }
            XCTAssertTrue(document.text.contains(rows.joined(separator: "\n")), "rows of \(sheet["name"] ?? "")")
        }
    }

    func testODTKeepsOutlineHeadingsMixedTextNotesListsAndTables() throws {
        let document = try read("notes.odt")
        let expected = try DocumentFixtures.expected("notes.odt")
        XCTAssertEqual(document.format, .odt)
        let headings = try XCTUnwrap(expected["headings"] as? [[String: Any]])
        XCTAssertEqual(document.headings.map(\.title), headings.map { $0["title"] as? String ?? "" })
        XCTAssertEqual(document.headings.map(\.level), headings.map { $0["level"] as? Int ?? 0 })
        for paragraph in try XCTUnwrap(expected["paragraphs"] as? [String]) {
            XCTAssertTrue(document.text.contains(paragraph), "missing: \(paragraph.prefix(60))")
        }
        for item in try XCTUnwrap(expected["list"] as? [String]) { XCTAssertTrue(document.text.contains("- " + item)) }
        let rows = try XCTUnwrap(expected["table"] as? [[String]]).map { $0.joined(separator: " | ") }
        XCTAssertTrue(document.text.contains(rows.joined(separator: "\n")))
    }

    func testODSRowsWithoutTheMillionPaddingRows() throws {
        let document = try read("hours.ods")
        let sheets = try XCTUnwrap(DocumentFixtures.expected("hours.ods")["sheets"] as? [[String: Any]])
        XCTAssertEqual(document.format, .ods)
        XCTAssertEqual(document.headings.map(\.title), sheets.map { "Sheet: \($0["name"] as? String ?? "")" })
        let rows = (sheets[0]["rows"] as? [[String]] ?? []).map { $0.joined(separator: " | ") }.joined(separator: "\n")
        XCTAssertEqual(document.text, "Sheet: Hours\n\n" + rows)
    }

    func testODPHasOneSectionPerSlideWithSpeakerNotes() throws {
        let document = try read("roadmap.odp")
        let slides = try XCTUnwrap(DocumentFixtures.expected("roadmap.odp")["slides"] as? [[String: Any]])
        XCTAssertEqual(document.format, .odp)
        XCTAssertEqual(document.headings.map(\.title),
                       slides.enumerated().map { "Slide \($0.offset + 1): \($0.element["title"] as? String ?? "")" })
        for slide in slides {
            for bullet in slide["bullets"] as? [String] ?? [] { XCTAssertTrue(document.text.contains(bullet), bullet) }
        }
        XCTAssertTrue(document.text.contains("Notes: Keep it short."))
    }

    func testSpreadsheetCellReferences() {
        XCTAssertEqual(XLSXReader.columnIndex("A1"), 0)
        XCTAssertEqual(XLSXReader.columnIndex("C7"), 2)
        XCTAssertEqual(XLSXReader.columnIndex("AA10"), 26)
        XCTAssertNil(XLSXReader.columnIndex("12"))
        XCTAssertEqual(OfficePackage.resolve("../notesSlides/n1.xml", from: "ppt/slides"), "ppt/notesSlides/n1.xml")
        XCTAssertEqual(OfficePackage.resolve("/xl/worksheets/sheet1.xml", from: "xl"), "xl/worksheets/sheet1.xml")
    }
}
