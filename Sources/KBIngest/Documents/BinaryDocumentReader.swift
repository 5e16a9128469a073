import Foundation

/// Chooses the reader for PDF and Office files by their content as well as their name: a PDF or an
/// Office file read by its real kind whatever its extension says (with a warning), a file named `.pdf`
/// or `.docx` that is not one refused with the reason, anything else left to the text readers.
public enum BinaryDocumentReader {
    /// What the first bytes say a file is.
    enum Content: Equatable {
        case pdf, zip, legacyOffice, other
    }

    static func sniff(_ data: Data, allowLeadingJunk: Bool) -> Content {
        let head = data.prefix(1024)
        if head.starts(with: Array("%PDF-".utf8)) { return .pdf }
        if allowLeadingJunk, head.firstRange(of: Array("%PDF-".utf8)) != nil { return .pdf }
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return .zip }
        if head.starts(with: [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) { return .legacyOffice }
        return .other
    }

    static let binaryFormats: Set<DocumentFormat> = [.pdf, .docx, .pptx, .xlsx, .odt, .ods, .odp]

    /// Reads `path` (whose bytes are `data`) if it is a PDF or Office file by name or content.
    /// - Returns: nil when the file is for the text readers.
    /// - Throws: ``ReadError`` naming the reason (encrypted, damaged, over a limit, needs OCR).
    public static func read(path: String, data: Data, declared: DocumentFormat?, fileStem: String) throws -> ParsedDocument? {
        let declaredBinary = declared.map { binaryFormats.contains($0) } ?? false
        let named = (path as NSString).pathExtension.isEmpty ? "no extension" : ".\((path as NSString).pathExtension)"
        switch sniff(data, allowLeadingJunk: declared == .pdf) {
        case .pdf:
            var document = try PDFReader.read(path: path, fileStem: fileStem)
            if declared != .pdf { document.warnings.insert("the content is a PDF (the name says \(named)); read as PDF", at: 0) }
            return document
        case .zip:
            let package = try OfficePackage(path: path)
            let format: DocumentFormat
            if package.contains("word/document.xml") { format = .docx }
            else if package.contains("ppt/presentation.xml") { format = .pptx }
            else if package.contains("xl/workbook.xml") { format = .xlsx }
            else if package.contains("content.xml"), let opened = try package.data("mimetype")
                        .flatMap({ openDocumentFormat(String(decoding: $0.prefix(100), as: UTF8.self)) }) { format = opened }
            else if declaredBinary {
                throw ReadError.damaged("a ZIP archive without the parts of a DOCX, PPTX, XLSX or OpenDocument file")
            } else {
                return nil
            }
            var document: ParsedDocument
            switch format {
            case .pptx: document = try PPTXReader.read(package, fileStem: fileStem)
            case .xlsx: document = try XLSXReader.read(package, fileStem: fileStem)
            case .odt, .ods, .odp: document = try OpenDocumentReader.read(package, fileStem: fileStem)
            default: document = try DOCXReader.read(package, fileStem: fileStem)
            }
            if declared != format {
                document.warnings.insert("the content is a \(format.rawValue.uppercased()) file (the name says \(named)); "
                    + "read as \(format.rawValue.uppercased())", at: 0)
            }
            return document
        case .legacyOffice where declaredBinary:
            throw ReadError.damaged("a legacy binary Office file (.doc, .xls or .ppt), which kb does not read; "
                + "save it as .docx, .xlsx or .pptx")
        case .legacyOffice, .other:
            guard let declared, declaredBinary else { return nil }
            throw ReadError.damaged(declared == .pdf ? "not a PDF (no %PDF- header)"
                : "not a \(declared.rawValue.uppercased()) file (not a ZIP archive)")
        }
    }

    /// The format an OpenDocument `mimetype` part names, if kb reads it.
    static func openDocumentFormat(_ mimetype: String) -> DocumentFormat? {
        switch mimetype.trimmingCharacters(in: .whitespacesAndNewlines) {
        case "application/vnd.oasis.opendocument.text": return .odt
        case "application/vnd.oasis.opendocument.spreadsheet": return .ods
        case "application/vnd.oasis.opendocument.presentation": return .odp
        default: return nil
        }
    }
}
