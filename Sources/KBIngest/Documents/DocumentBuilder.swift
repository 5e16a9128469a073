/// Assembles a ``ParsedDocument`` from the blocks a PDF or Office reader finds: headings and paragraphs
/// in reading order, separated by blank lines, with heading offsets and page ranges in Unicode scalars.
///
/// Pages also become the innermost heading ("Page 3", one level below the deepest real heading), so
/// that every chunk's heading path names its page while the store has no column for pages: a chunk
/// never spans two pages. ``ParsedDocument/pages`` carries the same information for a store that has.
struct DocumentBuilder {
    private(set) var text = ""
    private(set) var headings: [Heading] = []
    private(set) var pages: [PageRange] = []
    private var length = 0                       // text.unicodeScalars.count
    private var page: (number: Int, start: Int, headed: Bool)?
    /// The level page headings get; set it before adding content.
    var pageHeadingLevel = 1

    /// Starts page `number` (1-based); the previous page ends.
    mutating func beginPage(_ number: Int) {
        endPage()
        page = (number, length, false)
    }

    mutating func endPage() {
        if let page, length > page.start {
            pages.append(PageRange(number: page.number, range: page.start..<length))
        }
        page = nil
    }

    /// Adds a heading line. On a page, the page heading is repeated under it.
    mutating func heading(_ title: String, level: Int) {
        let title = normalizedLine(title)
        guard !title.isEmpty else { return }
        startBlock()
        headings.append(Heading(level: level, title: title, offset: length))
        if let current = page {
            headings.append(Heading(level: pageHeadingLevel, title: "Page \(current.number)", offset: length))
            page?.headed = true
        }
        append(title)
    }

    /// Adds a paragraph (it may hold single newlines, e.g. table rows); blank ones are dropped.
    mutating func paragraph(_ body: String) {
        let body = trimmed(body)
        guard !body.isEmpty else { return }
        startBlock()
        if let current = page, !current.headed {
            headings.append(Heading(level: pageHeadingLevel, title: "Page \(current.number)", offset: length))
            page?.headed = true
        }
        append(body)
    }

    func document(title: String, format: DocumentFormat, warnings: [String]) -> ParsedDocument {
        var pages = self.pages
        if let page, length > page.start { pages.append(PageRange(number: page.number, range: page.start..<length)) }
        return ParsedDocument(title: title, text: text, headings: headings, format: format, pages: pages,
                              warnings: warnings)
    }

    var isEmpty: Bool { length == 0 }

    // MARK: - Private

    private mutating func startBlock() {
        if length > 0 { append("\n\n") }
    }

    private mutating func append(_ string: String) {
        text += string
        length += string.unicodeScalars.count
    }

    private func normalizedLine(_ string: String) -> String {
        trimmed(string.split(whereSeparator: { $0.isNewline }).joined(separator: " "))
    }

    private func trimmed(_ string: String) -> String {
        let scalars = string.unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let end = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(String.UnicodeScalarView(scalars[start...end]))
    }
}
