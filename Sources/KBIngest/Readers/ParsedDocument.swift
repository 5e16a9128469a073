/// The formats kb reads.
public enum DocumentFormat: String, Sendable, Codable, CaseIterable {
    case text, markdown, html, jsonl
    /// Read by ``PDFReader`` (poppler's `pdftotext` in a child process) and the Office readers
    /// (``DOCXReader``, ``PPTXReader``, ``XLSXReader``, ``OpenDocumentReader``): binary formats, sniffed
    /// by content too.
    case pdf, docx, pptx, xlsx, odt, ods, odp

    /// The format for a file name's extension, or nil when kb does not read it.
    public init?(fileExtension: String) {
        switch fileExtension.lowercased() {
        case "txt", "text", "rst", "log", "csv", "tsv": self = .text
        case "md", "markdown", "mdown", "mkd": self = .markdown
        case "html", "htm", "xhtml": self = .html
        case "jsonl", "ndjson": self = .jsonl
        case "pdf": self = .pdf
        case "docx", "docm": self = .docx
        case "pptx", "pptm": self = .pptx
        case "xlsx", "xlsm": self = .xlsx
        case "odt": self = .odt
        case "ods": self = .ods
        case "odp": self = .odp
        default: return nil
        }
    }
}

/// A heading found by a reader: its level (1 = outermost), text, and the Unicode scalar offset in the
/// document text where the heading line starts.
public struct Heading: Sendable, Equatable {
    public var level: Int
    public var title: String
    public var offset: Int

    public init(level: Int, title: String, offset: Int) {
        self.level = level
        self.title = title
        self.offset = offset
    }
}

/// A document as a reader extracted it: the text that is stored, chunked and cited, plus structure.
public struct ParsedDocument: Sendable, Equatable {
    public var title: String
    /// Plain text; paragraphs are separated by blank lines.
    public var text: String
    /// Headings in document order, with offsets into `text`.
    public var headings: [Heading]
    public var url: String?
    /// A JSON object (serialized with sorted keys), if the source had metadata.
    public var metadataJSON: String?
    public var format: DocumentFormat
    /// For paged formats (PDF): which scalar range of `text` each page produced, in page order.
    /// Pages with no text have no entry. Empty for formats without pages.
    public var pages: [PageRange]
    /// What the reader noticed but did not stop for (pages that need OCR, a lying extension).
    public var warnings: [String]

    public init(title: String, text: String, headings: [Heading] = [], url: String? = nil,
                metadataJSON: String? = nil, format: DocumentFormat, pages: [PageRange] = [], warnings: [String] = []) {
        self.title = title
        self.text = text
        self.headings = headings
        self.url = url
        self.metadataJSON = metadataJSON
        self.format = format
        self.pages = pages
        self.warnings = warnings
    }

    /// The page (1-based) that scalar `offset` of `text` came from, or nil (no pages, or between pages).
    public func page(atOffset offset: Int) -> Int? {
        pages.first(where: { $0.range.contains(offset) })?.number
    }
}

/// The part of a document's text that one page produced.
public struct PageRange: Sendable, Equatable {
    /// 1-based page number in the source file.
    public var number: Int
    /// Unicode scalar offsets into ``ParsedDocument/text``.
    public var range: Range<Int>

    public init(number: Int, range: Range<Int>) {
        self.number = number
        self.range = range
    }
}

/// Why a source could not be read. The description names no path: callers prefix it.
public enum ReadError: Error, CustomStringConvertible, Equatable {
    case binary
    case invalidUTF8(invalidSequences: Int)
    case tooLarge(bytes: Int, limit: Int)
    case empty
    case unreadable(String)
    case malformedRecord(String)
    /// An encrypted PDF (a password is needed to open it).
    case encrypted
    /// Not a valid file of its kind (truncated, damaged, or another kind under a lying name).
    case damaged(String)
    /// Reading would pass a limit (uncompressed size, XML size, time or memory of the PDF reader).
    case overLimit(String)
    /// A paged document with no text layer on any page: scanned images need OCR.
    case needsOCR(pages: Int)

    public var description: String {
        switch self {
        case .binary: return "binary file (contains NUL bytes); not ingested"
        case .invalidUTF8(let count): return "invalid UTF-8 (\(count) bad byte sequences) and --strict-utf8 is set"
        case .tooLarge(let bytes, let limit):
            return "file is \(ByteCount.format(bytes)), over the \(ByteCount.format(limit)) limit (raise --max-file-size to ingest it)"
        case .empty: return "empty document (no text)"
        case .unreadable(let reason): return "cannot read: \(reason)"
        case .malformedRecord(let reason): return reason
        case .encrypted: return "encrypted PDF: it needs a password to open; not ingested"
        case .damaged(let reason): return "damaged or invalid file: \(reason)"
        case .overLimit(let reason): return "not ingested: \(reason)"
        case .needsOCR(let pages):
            return "no text layer on any of its \(pages) page(s) (scanned images?): needs OCR; not ingested"
        }
    }
}

/// Human-readable byte counts.
public enum ByteCount {
    public static func format(_ bytes: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }
}
