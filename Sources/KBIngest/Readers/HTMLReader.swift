/// HTML: visible text with block structure kept as paragraph breaks and `h1`-`h6` as headings.
/// Scripts, styles, templates, SVG, navigation (`<nav>`, `role="navigation"`) and the `<head>` are
/// dropped (the `<title>` is kept as the title). Character references are decoded. Tolerant of
/// malformed markup: it never fails, it extracts what it can.
public enum HTMLReader {
    public static func parse(_ html: String, fileStem: String) -> ParsedDocument {
        var extractor = HTMLTextExtractor(Array(html.unicodeScalars))
        extractor.run()
        let title = extractor.title.collapsingWhitespace()
        let firstH1 = extractor.headings.first(where: { $0.level == 1 })?.title
        let chosen = !title.isEmpty ? title : (firstH1 ?? fileStem)
        return ParsedDocument(title: chosen.isEmpty ? fileStem : chosen, text: String(extractor.output),
                              headings: extractor.headings, format: .html)
    }
}

/// A single pass over the markup that writes visible text into `output`.
struct HTMLTextExtractor {
    private let input: [Unicode.Scalar]
    private var position = 0
    private(set) var output = String.UnicodeScalarView()
    private(set) var outputCount = 0
    private(set) var headings: [Heading] = []
    private(set) var title = ""

    private var skipElement: String?          // element whose content is dropped, e.g. "script"
    private var skipDepth = 0
    private var preDepth = 0
    private var inTitle = false
    private var openHeading: (level: Int, offset: Int, text: String)?
    private var pendingSpace = false
    private var pendingNewlines = 0            // 1 = line break, 2 = paragraph break

    init(_ input: [Unicode.Scalar]) { self.input = input }

    static let droppedElements: Set<String> = ["script", "style", "noscript", "template", "svg", "math", "head", "nav", "iframe", "object"]
    static let blockElements: Set<String> = [
        "p", "div", "section", "article", "header", "footer", "main", "aside", "blockquote", "pre", "ul", "ol",
        "dl", "dt", "dd", "table", "thead", "tbody", "tfoot", "tr", "form", "fieldset", "figure", "figcaption",
        "address", "details", "summary", "hr", "body", "html",
    ]
    static let lineElements: Set<String> = ["br", "li", "td", "th", "caption", "option"]
    static let voidElements: Set<String> = ["br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "source", "track", "wbr"]

    mutating func run() {
        while position < input.count {
            let scalar = input[position]
            if scalar == "<" {
                parseMarkup()
            } else {
                let start = position
                while position < input.count && input[position] != "<" { position += 1 }
                text(start..<position)
            }
        }
        closeHeading()
    }

    // MARK: - Markup

    private mutating func parseMarkup() {
        // Comments, doctype, CDATA, processing instructions.
        if matches("<!--") {
            position = find("-->").map { $0 + 3 } ?? input.count
            return
        }
        if matches("<![CDATA[") {
            let start = position + 9
            let end = find("]]>") ?? input.count
            position = min(end + 3, input.count)
            text(start..<end)
            return
        }
        if matches("<!") || matches("<?") {
            position = find(">").map { $0 + 1 } ?? input.count
            return
        }
        var cursor = position + 1
        let closing = cursor < input.count && input[cursor] == "/"
        if closing { cursor += 1 }
        let nameStart = cursor
        while cursor < input.count, isNameScalar(input[cursor]) { cursor += 1 }
        if cursor == nameStart {
            // A lone "<": literal text.
            position += 1
            text((position - 1)..<position)
            return
        }
        let name = String(String.UnicodeScalarView(input[nameStart..<cursor])).lowercased()
        // Attributes up to the closing ">", honouring quotes.
        let attributesStart = cursor
        var quote: Unicode.Scalar?
        while cursor < input.count {
            let c = input[cursor]
            if let q = quote { if c == q { quote = nil } }
            else if c == "\"" || c == "'" { quote = c }
            else if c == ">" { break }
            cursor += 1
        }
        let attributes = String(String.UnicodeScalarView(input[attributesStart..<min(cursor, input.count)])).lowercased()
        position = min(cursor + 1, input.count)
        if closing { endTag(name) } else { startTag(name, attributes: attributes) }
    }

    private mutating func startTag(_ name: String, attributes: String) {
        if name == "title" { inTitle = true; return }
        if let skipped = skipElement {
            if name == skipped && !Self.voidElements.contains(name) { skipDepth += 1 }
            return
        }
        if (Self.droppedElements.contains(name) || Self.isBoilerplate(attributes)) && !attributes.hasSuffix("/") {
            skipElement = name
            skipDepth = 1
            return
        }
        if let level = headingLevel(name) {
            closeHeading()
            breakLine(2)
            flushPending()
            openHeading = (level, outputCount, "")
            return
        }
        if name == "pre" { preDepth += 1 }
        if Self.blockElements.contains(name) { breakLine(2) }
        else if Self.lineElements.contains(name) { breakLine(name == "td" || name == "th" ? 0 : 1) }
        if name == "td" || name == "th" { pendingSpace = true }
    }

    /// Navigation regions and documentation generators' permalink markers (Sphinx's `¶` anchors).
    static func isBoilerplate(_ attributes: String) -> Bool {
        attributes.contains("role=\"navigation\"") || attributes.contains("role=navigation")
            || attributes.contains("class=\"headerlink\"")
    }

    private mutating func endTag(_ name: String) {
        if name == "title" { inTitle = false; return }
        if let skipped = skipElement {
            if name == skipped {
                skipDepth -= 1
                if skipDepth == 0 { skipElement = nil }
            }
            return
        }
        if headingLevel(name) != nil {
            closeHeading()
            breakLine(2)
            return
        }
        if name == "pre" { preDepth = max(0, preDepth - 1) }
        if Self.blockElements.contains(name) { breakLine(2) }
        else if name == "li" || name == "dt" || name == "dd" { breakLine(1) }
    }

    private mutating func closeHeading() {
        guard let heading = openHeading else { return }
        openHeading = nil
        let title = heading.text.collapsingWhitespace()
        if !title.isEmpty { headings.append(Heading(level: heading.level, title: title, offset: heading.offset)) }
    }

    private func headingLevel(_ name: String) -> Int? {
        guard name.count == 2, name.first == "h", let digit = name.last?.wholeNumberValue, (1...6).contains(digit) else {
            return nil
        }
        return digit
    }

    // MARK: - Text

    private mutating func text(_ range: Range<Int>) {
        guard skipElement == nil || inTitle else { return }
        let decoded = CharacterReferences.decode(input[range])
        if inTitle { title.unicodeScalars.append(contentsOf: decoded); return }
        guard skipElement == nil else { return }
        for scalar in decoded {
            if preDepth == 0 && scalar.properties.isWhitespace {
                if outputCount > 0 { pendingSpace = true }
                continue
            }
            if preDepth > 0 && scalar == "\n" {
                pendingNewlines = max(pendingNewlines, 1)
                pendingSpace = false
                flushPending(force: true)
                continue
            }
            // In place: a copy of the heading here would copy its text for every character.
            if pendingSpace { openHeading?.text.append(" ") }
            openHeading?.text.unicodeScalars.append(scalar)
            flushPending()
            append(scalar)
        }
    }

    private mutating func breakLine(_ newlines: Int) {
        pendingNewlines = max(pendingNewlines, newlines)
        if newlines > 0 { pendingSpace = false }
    }

    private mutating func flushPending(force: Bool = false) {
        if outputCount == 0 && !force { pendingNewlines = 0; pendingSpace = false; return }
        if pendingNewlines > 0 {
            for _ in 0..<pendingNewlines { append("\n") }
            pendingNewlines = 0
            pendingSpace = false
        } else if pendingSpace {
            append(" ")
            pendingSpace = false
        }
    }

    private mutating func append(_ scalar: Unicode.Scalar) {
        output.append(scalar)
        outputCount += 1
    }

    // MARK: - Scanning

    private func matches(_ literal: String) -> Bool {
        var index = position
        for scalar in literal.unicodeScalars {
            guard index < input.count,
                  input[index].properties.lowercaseMapping == scalar.properties.lowercaseMapping else { return false }
            index += 1
        }
        return true
    }

    private func find(_ literal: String) -> Int? {
        let pattern = Array(literal.unicodeScalars)
        var index = position
        while index + pattern.count <= input.count {
            if input[index] == pattern[0] && Array(input[index..<(index + pattern.count)]) == pattern { return index }
            index += 1
        }
        return nil
    }

    private func isNameScalar(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "-" || scalar == ":"
    }
}

extension String {
    /// Runs of whitespace become one space; no leading or trailing whitespace.
    func collapsingWhitespace() -> String {
        var out = String.UnicodeScalarView()
        var pending = false
        for scalar in unicodeScalars {
            if scalar.properties.isWhitespace { pending = !out.isEmpty; continue }
            if pending { out.append(" "); pending = false }
            out.append(scalar)
        }
        return String(out)
    }
}
