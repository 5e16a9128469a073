import Foundation

/// OpenDocument (ODT, ODS, ODP from LibreOffice): `content.xml`, read like their Office Open XML
/// counterparts. ODT: `text:h` outline levels are headings, lists "- item" lines, tables " | " rows,
/// notes "[n] text" paragraphs at the end. ODS: a "Sheet: name" section per table, a line per row.
/// ODP: a "Slide N: title" section per page with its speaker notes.
enum OpenDocumentReader {
    static let skipped: Set<String> = ["tracked-changes", "table-of-content", "annotation", "sequence-decls",
                                       "forms", "automatic-styles", "font-face-decls", "scripts"]
    /// Repeated rows and cells (`number-*-repeated`, which pads sheets to a million rows) are expanded
    /// only when they have text, and at most this many times.
    static let maxRepeat = 1000

    static func read(_ package: OfficePackage, fileStem: String) throws -> ParsedDocument {
        guard let content = try package.xml("content.xml", skipping: skipped, mixedText: true),
              let body = content.child("body") else {
            throw ReadError.damaged("not an OpenDocument file (no content.xml body)")
        }
        var builder = DocumentBuilder()
        var notes: [String] = []
        let format: DocumentFormat
        if let text = body.child("text") {
            format = .odt
            readText(text.children, into: &builder, notes: &notes)
        } else if let spreadsheet = body.child("spreadsheet") {
            format = .ods
            for table in spreadsheet.children where table.name == "table" {
                builder.heading("Sheet: \(table["table:name"] ?? table["name"] ?? "")", level: 1)
                builder.paragraph(tableText(table, notes: &notes, separator: "\n"))
            }
        } else if let presentation = body.child("presentation") {
            format = .odp
            readSlides(presentation, into: &builder, notes: &notes)
        } else {
            throw ReadError.damaged("an OpenDocument file of a kind kb does not read (not text, spreadsheet or presentation)")
        }
        for note in notes { builder.paragraph(note) }
        let metaTitle = try package.xml("meta.xml")?.descendants("title").first?.text
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let title = [metaTitle, builder.headings.first?.title].compactMap { $0 }.first { !$0.isEmpty } ?? fileStem
        return builder.document(title: title, format: format, warnings: [])
    }

    // MARK: - Text

    private static func readText(_ elements: [XMLTree.Element], into builder: inout DocumentBuilder, notes: inout [String]) {
        for element in elements {
            switch element.name {
            case "h":
                let level = element["text:outline-level"].flatMap(Int.init) ?? element["outline-level"].flatMap(Int.init) ?? 1
                builder.heading(inlineText(element, notes: &notes), level: min(max(level, 1), 9))
            case "p": builder.paragraph(inlineText(element, notes: &notes))
            case "list": builder.paragraph(listText(element, depth: 0, notes: &notes))
            case "table": builder.paragraph(tableText(element, notes: &notes, separator: "\n"))
            case "section", "index-body": readText(element.children, into: &builder, notes: &notes)
            default: continue
            }
        }
    }

    /// A paragraph's text in order: text, spans and links, `text:s` spaces, tabs, line breaks; a note
    /// becomes "[n]" here and "[n] body" in `notes`.
    static func inlineText(_ element: XMLTree.Element, notes: inout [String]) -> String {
        var text = ""
        for child in element.children {
            switch child.name {
            case "#text": text += child.text
            case "s": text += String(repeating: " ", count: min(child["text:c"].flatMap(Int.init) ?? 1, 100))
            case "tab": text += "\t"
            case "line-break": text += "\n"
            case "note":
                let citation = child.child("note-citation").map { inlineText($0, notes: &notes) } ?? "*"
                text += "[\(citation)]"
                let body = child.child("note-body")?.children.filter { $0.name == "p" }
                    .map { inlineText($0, notes: &notes) }.joined(separator: " ") ?? ""
                if !body.isEmpty { notes.append("[\(citation)] \(body)") }
            case "bookmark", "bookmark-start", "bookmark-end", "soft-page-break", "reference-mark": continue
            default: text += inlineText(child, notes: &notes)
            }
        }
        return text
    }

    private static func listText(_ list: XMLTree.Element, depth: Int, notes: inout [String]) -> String {
        var lines: [String] = []
        for item in list.children where item.name == "list-item" || item.name == "list-header" {
            for child in item.children {
                switch child.name {
                case "p", "h":
                    let text = inlineText(child, notes: &notes)
                    if !text.trimmingCharacters(in: .whitespaces).isEmpty {
                        lines.append(String(repeating: "  ", count: min(depth, 8)) + "- " + text)
                    }
                case "list": lines.append(listText(child, depth: depth + 1, notes: &notes))
                default: continue
                }
            }
        }
        return lines.filter { !$0.isEmpty }.joined(separator: "\n")
    }

    /// Rows (header rows and row groups included) as " | " lines, cells placed by column.
    static func tableText(_ table: XMLTree.Element, notes: inout [String], separator: String) -> String {
        var lines: [String] = []
        var stack = Array(table.children.reversed())
        while let element = stack.popLast(), lines.count < 1_000_000 {
            switch element.name {
            case "table-row":
                var cells: [String] = []
                for cell in element.children where cell.name == "table-cell" || cell.name == "covered-table-cell" {
                    let text = cell.children.filter { $0.name == "p" || $0.name == "h" }
                        .map { inlineText($0, notes: &notes) }.joined(separator: " ")
                        .replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces)
                    let repeats = cell["table:number-columns-repeated"].flatMap(Int.init) ?? 1
                    let count = text.isEmpty ? min(repeats, 1024) : min(repeats, maxRepeat)
                    guard cells.count + count <= 16_384 else { break }
                    cells.append(contentsOf: repeatElement(text, count: max(count, 1)))
                }
                while cells.last?.isEmpty == true { cells.removeLast() }
                guard !cells.isEmpty else { continue }
                let repeats = min(element["table:number-rows-repeated"].flatMap(Int.init) ?? 1, maxRepeat)
                lines.append(contentsOf: repeatElement(cells.joined(separator: " | "), count: max(repeats, 1)))
            case "table-header-rows", "table-rows", "table-row-group":
                stack.append(contentsOf: element.children.reversed())
            default: continue
            }
        }
        return lines.joined(separator: separator)
    }

    // MARK: - Slides

    private static func readSlides(_ presentation: XMLTree.Element, into builder: inout DocumentBuilder, notes: inout [String]) {
        for (index, page) in presentation.children.filter({ $0.name == "page" }).enumerated() {
            var title: String?
            var paragraphs: [String] = []
            for frame in page.children where frame.name == "frame" || frame.name == "custom-shape" {
                let kind = frame["presentation:class"]
                guard kind != "page-number" && kind != "date-time" && kind != "footer" && kind != "header" else { continue }
                let texts = frameTexts(frame, notes: &notes)
                if kind == "title" && title == nil { title = texts.joined(separator: " ") } else { paragraphs += texts }
            }
            builder.heading(title.map { "Slide \(index + 1): \($0)" } ?? "Slide \(index + 1)", level: 1)
            for paragraph in paragraphs { builder.paragraph(paragraph) }
            let speakerNotes = page.child("notes")?.children
                .filter { $0.name == "frame" && $0["presentation:class"] == "notes" }
                .flatMap { frameTexts($0, notes: &notes) }.joined(separator: "\n") ?? ""
            if !speakerNotes.isEmpty { builder.paragraph("Notes: " + speakerNotes) }
        }
    }

    private static func frameTexts(_ frame: XMLTree.Element, notes: inout [String]) -> [String] {
        var texts: [String] = []
        var stack = Array(frame.children.reversed())
        while let element = stack.popLast() {
            switch element.name {
            case "p", "h": texts.append(inlineText(element, notes: &notes).trimmingCharacters(in: .whitespaces))
            case "list": texts.append(listText(element, depth: 0, notes: &notes))
            case "table": texts.append(tableText(element, notes: &notes, separator: "\n"))
            default: stack.append(contentsOf: element.children.reversed())
            }
        }
        return texts.filter { !$0.isEmpty }
    }
}
