import Foundation

/// Word (DOCX): `word/document.xml` in body order.
///
/// - Headings from paragraph styles: a style named "heading N" (or with an outline level, on the
///   paragraph or inherited through `basedOn`) is a level-N heading; the "Title" style is the title.
/// - List items (numbering on the paragraph or its style) become "- item" lines, indented by level.
/// - Tables become one line per row, cells separated by " | ".
/// - Footnotes and endnotes are kept as "[n] text" paragraphs at the end; references become "[n]".
/// - Deleted revisions, field codes, and drawing fallbacks (duplicates of the drawing) are left out.
enum DOCXReader {
    static let skipped: Set<String> = ["rPr", "sectPr", "Fallback", "del", "instrText", "extLst", "drawing"]

    static func read(_ package: OfficePackage, fileStem: String) throws -> ParsedDocument {
        guard let document = try package.xml("word/document.xml", skipping: skipped),
              let body = document.child("body") else {
            throw ReadError.damaged("not a Word document (no word/document.xml body)")
        }
        let styles = try Styles(package.xml("word/styles.xml", skipping: ["rPr", "tblPr", "tcPr", "trPr"]))
        var builder = DocumentBuilder()
        var title: String?
        read(children: body.children, styles: styles, into: &builder, title: &title)
        for (part, kind) in [("word/footnotes.xml", "footnote"), ("word/endnotes.xml", "endnote")] {
            guard let notes = try package.xml(part, skipping: skipped) else { continue }
            for note in notes.children where note.name == kind && note["type"] == nil {
                let text = note.children.filter { $0.name == "p" }.map { paragraphText($0) }.joined(separator: " ")
                if !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    builder.paragraph("[\(note["id"] ?? "?")] \(text)")
                }
            }
        }
        let coreTitle = try package.xml("docProps/core.xml")?.children.first { $0.name == "title" }?.text
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let resolvedTitle = [coreTitle, title, builder.headings.first?.title].compactMap { $0 }.first { !$0.isEmpty }
        return builder.document(title: resolvedTitle ?? fileStem, format: .docx, warnings: [])
    }

    private static func read(children: [XMLTree.Element], styles: Styles, into builder: inout DocumentBuilder,
                             title: inout String?) {
        for element in children {
            switch element.name {
            case "p":
                let text = paragraphText(element)
                let properties = element.child("pPr")
                let styleID = properties?.child("pStyle")?["val"]
                if let level = properties?.child("outlineLvl")?["val"].flatMap(Int.init).map({ $0 + 1 })
                    ?? styleID.flatMap({ styles.headingLevel($0) }), level <= 9 {
                    builder.heading(text, level: level)
                } else if let styleID, styles.isTitle(styleID) {
                    if title == nil { title = text.trimmingCharacters(in: .whitespaces) }
                    builder.paragraph(text)
                } else if let numbering = properties?.child("numPr"), numbering.child("numId")?["val"] != "0" {
                    let depth = numbering.child("ilvl")?["val"].flatMap(Int.init) ?? 0
                    if !text.trimmingCharacters(in: .whitespaces).isEmpty {
                        builder.paragraph(String(repeating: "  ", count: min(depth, 8)) + "- " + text)
                    }
                } else if let styleID, styles.isList(styleID) {
                    if !text.trimmingCharacters(in: .whitespaces).isEmpty { builder.paragraph("- " + text) }
                } else {
                    builder.paragraph(text)
                }
            case "tbl":
                builder.paragraph(tableText(element))
            case "sdt":
                if let content = element.child("sdtContent") {
                    read(children: content.children, styles: styles, into: &builder, title: &title)
                }
            default:
                continue
            }
        }
    }

    /// The runs' text: `t`, tabs, breaks, and note references as "[n]".
    static func paragraphText(_ paragraph: XMLTree.Element) -> String {
        var text = ""
        var stack: [XMLTree.Element] = [paragraph]
        while let element = stack.popLast() {
            switch element.name {
            case "t": text += element.text
            case "tab": text += "\t"
            case "br", "cr": text += "\n"
            case "footnoteReference", "endnoteReference": text += "[\(element["id"] ?? "?")]"
            case "pPr": continue
            default: stack.append(contentsOf: element.children.reversed())
            }
        }
        return text
    }

    static func tableText(_ table: XMLTree.Element) -> String {
        table.children.filter { $0.name == "tr" }.map { row in
            row.children.filter { $0.name == "tc" }.map { cell in
                cell.descendants("p").map { paragraphText($0) }.joined(separator: " ")
                    .replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces)
            }.joined(separator: " | ")
        }.joined(separator: "\n")
    }

    /// Paragraph styles: heading levels, the title style, list styles (through `basedOn`).
    struct Styles {
        struct Style {
            var name: String
            var basedOn: String?
            var outlineLevel: Int?
            var numbered: Bool
        }

        var styles: [String: Style] = [:]

        init(_ root: XMLTree.Element?) {
            for style in root?.children ?? [] where style.name == "style" {
                guard let id = style["styleId"] else { continue }
                let properties = style.child("pPr")
                styles[id] = Style(name: style.child("name")?["val"]?.lowercased() ?? id.lowercased(),
                                   basedOn: style.child("basedOn")?["val"],
                                   outlineLevel: properties?.child("outlineLvl")?["val"].flatMap(Int.init),
                                   numbered: properties?.child("numPr") != nil)
            }
        }

        func headingLevel(_ id: String) -> Int? {
            for style in chain(id) {
                if style.name.hasPrefix("heading "), let level = Int(style.name.dropFirst(8)) { return level }
                if let outline = style.outlineLevel, outline < 9 { return outline + 1 }
            }
            if id.lowercased().hasPrefix("heading"), let level = Int(id.dropFirst(7)) { return level }
            return nil
        }

        func isTitle(_ id: String) -> Bool { chain(id).first?.name == "title" || id == "Title" }

        func isList(_ id: String) -> Bool { chain(id).contains { $0.numbered || $0.name.hasPrefix("list bullet") || $0.name.hasPrefix("list number") } }

        private func chain(_ id: String) -> [Style] {
            var result: [Style] = []
            var next: String? = id
            while let current = next, let style = styles[current], result.count < 16 {
                result.append(style)
                next = style.basedOn
            }
            return result
        }
    }
}
