import Foundation
import KBStore
import KBTestSupport
import XCTest
@testable import KBIngest

/// Hostile and broken PDF and Office files: each gives a clear reason naming the file, quickly and in
/// bounded memory, and the rest of an ingest goes on.
final class DocumentBadInputTests: XCTestCase {
    private func read(_ path: String, declared: DocumentFormat? = nil) throws -> ParsedDocument? {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let format = declared ?? DocumentFormat(fileExtension: (path as NSString).pathExtension)
        return try BinaryDocumentReader.read(path: path, data: data, declared: format, fileStem: "x")
    }

    /// The ReadError `body` throws, within `seconds`.
    private func readError(seconds: Double = 30, _ body: () throws -> ParsedDocument?,
                           file: StaticString = #filePath, line: UInt = #line) -> ReadError? {
        let start = Date()
        defer {
            XCTAssertLessThan(Date().timeIntervalSince(start), seconds, "took too long", file: file, line: line)
        }
        do {
            _ = try body()
            XCTFail("read without an error", file: file, line: line)
        } catch let error as ReadError {
            return error
        } catch {
            XCTFail("not a ReadError: \(error)", file: file, line: line)
        }
        return nil
    }

    func testEncryptedPDFSaysItNeedsAPassword() throws {
        let path = try DocumentFixtures.path("bad/encrypted.pdf")
        XCTAssertEqual(readError { try read(path) }, .encrypted)
        XCTAssertTrue(ReadError.encrypted.description.contains("password"))
    }

    func testCorruptAndTruncatedPDFsAreDamaged() throws {
        for name in ["bad/corrupt.pdf", "bad/truncated.pdf", "bad/not-really.pdf"] {
            let path = try DocumentFixtures.path(name)
            guard case .damaged(let reason)? = readError({ try read(path) }) else { XCTFail(name); continue }
            XCTAssertTrue(reason.contains("PDF"), "\(name): \(reason)")
        }
    }

    func testZipBombDisguisedAsDOCXStopsAtTheBudget() throws {
        let path = try DocumentFixtures.path("bad/bomb.docx")
        let before = Self.peakResidentBytes()
        guard case .overLimit(let reason)? = readError({ try read(path) }) else { return XCTFail("not over a limit") }
        XCTAssertTrue(reason.contains("ZIP bomb"), reason)
        // It inflates to 512 MiB; reading stops at the 128 MiB budget.
        XCTAssertLessThan(Self.peakResidentBytes() - before, 400 << 20)
    }

    func testXMLEntityExpansionIsRefused() throws {
        let path = try DocumentFixtures.path("bad/entities.docx")
        guard case .overLimit(let reason)? = readError({ try read(path) }) else { return XCTFail("not refused") }
        XCTAssertTrue(reason.contains("DTD"), reason)
    }

    func testLyingExtensions() throws {
        // A PDF named .docx is read as the PDF it is, with a warning.
        let document = try XCTUnwrap(read(try DocumentFixtures.path("bad/pdf-named.docx")))
        XCTAssertEqual(document.format, .pdf)
        XCTAssertTrue(document.warnings.first?.contains("the name says .docx") == true, "\(document.warnings)")
        // Text named .docx, and a DOCX named .txt.
        let directory = try TestSupport.temporaryDirectory(self)
        let text = try TestSupport.write("just some words", to: "notes.docx", in: directory)
        guard case .damaged(let reason)? = readError({ try read(text.path) }) else { return XCTFail("text as DOCX") }
        XCTAssertTrue(reason.contains("not a DOCX"), reason)
        let docx = try Data(contentsOf: URL(fileURLWithPath: DocumentFixtures.path("handbook.docx")))
        let renamed = try TestSupport.write(docx, to: "handbook.txt", in: directory)
        let renamedDocument = try XCTUnwrap(read(renamed.path))
        XCTAssertEqual(renamedDocument.format, .docx)
        XCTAssertTrue(renamedDocument.text.contains("Name | Role | Room"))
        // Plain text stays with the text readers.
        XCTAssertNil(try self.read(try TestSupport.write("hello", to: "a.txt", in: directory).path))
    }

    func testScannedPDFWithNoTextAtAllNeedsOCR() throws {
        var layout = PDFTextLayout()
        layout.pages = [PDFTextLayout.Page(width: 612, height: 792), PDFTextLayout.Page(width: 612, height: 792)]
        XCTAssertThrowsError(try PDFReader.document(from: layout, fileStem: "scan")) { error in
            XCTAssertEqual(error as? ReadError, .needsOCR(pages: 2))
        }
    }

    /// Through `kb ingest`'s pipeline: every bad file is reported by name with its reason, the good ones stored.
    func testIngestReportsEachBadFileAndKeepsGoing() throws {
        let directory = try TestSupport.temporaryDirectory(self)
        let store = try KBDatabase(path: directory.appendingPathComponent("kb.sqlite").path)
        let chunker = Chunker(options: ChunkingOptions(), counter: try TestSupport.loadTokenizer())
        let fixtures = try DocumentFixtures.directory()
        let report = try IngestPipeline(store: store, chunker: chunker, options: IngestOptions())
            .run([fixtures.appendingPathComponent("bad").path, fixtures.appendingPathComponent("hours.xlsx").path])
        let failures = Dictionary(uniqueKeysWithValues: report.failures.map { (($0.source as NSString).lastPathComponent, $0.reason) })
        XCTAssertEqual(Set(failures.keys), ["bomb.docx", "corrupt.pdf", "encrypted.pdf", "entities.docx",
                                            "not-really.pdf", "truncated.pdf"])
        XCTAssertTrue(failures["encrypted.pdf"]?.contains("password") == true)
        XCTAssertEqual(report.skips.map { ($0.source as NSString).lastPathComponent }, ["no-text.docx"])
        XCTAssertEqual(report.added, 2)                              // pdf-named.docx and hours.xlsx
        XCTAssertEqual(report.warnings.map { ($0.source as NSString).lastPathComponent }, ["pdf-named.docx"])
    }

    static func peakResidentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return 0 }
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }
}
