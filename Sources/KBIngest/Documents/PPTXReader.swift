import Foundation

/// PowerPoint (PPTX): one section per slide, in presentation order, headed "Slide N: title" (the
/// title placeholder's text), with the other shapes' paragraphs, tables as " | " rows, and the speaker
/// notes as a final "Notes: …" paragraph.
enum PPTXReader {
    static let skipped: Set<String> = ["rPr", "pPr", "spPr", "style", "Fallback", "extLst", "endParaRPr"]

    static func read(_ package: OfficePackage, fileStem: String) throws -> ParsedDocument {
        guard let presentation = try package.xml("ppt/presentation.xml", skipping: skipped) else {
            throw ReadError.damaged("not a PowerPoint presentation (no ppt/presentation.xml)")
        }
        let relationships = try package.relationships(of: "ppt/presentation.xml")
        let slidePaths = presentation.descendants("sldId").compactMap { $0["r:id"].flatMap { relationships[$0]?.target } }
        var builder = DocumentBuilder()
        var firstTitle: String?
        for (index, path) in slidePaths.enumerated() {
            guard let slide = try package.xml(path, skipping: skipped) else { continue }
            let (title, paragraphs) = slideText(slide)
            if firstTitle == nil, let title, !title.isEmpty { firstTitle = title }
            builder.heading(title.map { "Slide \(index + 1): \($0)" } ?? "Slide \(index + 1)", level: 1)
            for paragraph in paragraphs { builder.paragraph(paragraph) }
            let notesPath = try package.relationships(of: path).values.first { $0.type.hasSuffix("/notesSlide") }?.target
            if let notesPath, let notes = try package.xml(notesPath, skipping: skipped) {
                let text = notesText(notes)
                if !text.isEmpty { builder.paragraph("Notes: " + text) }
            }
        }
        let coreTitle = try package.xml("docProps/core.xml")?.children.first { $0.name == "title" }?.text
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let title = [coreTitle, firstTitle].compactMap { $0 }.first { !$0.isEmpty } ?? fileStem
        return builder.document(title: title, format: .pptx, warnings: [])
    }

    /// The title placeholder's text, and every other text body's paragraphs and tables in shape order.
    static func slideText(_ slide: XMLTree.Element) -> (title: String?, paragraphs: [String]) {
        var title: String?
        var paragraphs: [String] = []
        var stack: [XMLTree.Element] = [slide]
        while let element = stack.popLast() {
            switch element.name {
            case "sp":
                let placeholder = element.child("nvSpPr")?.child("nvPr")?.child("ph")?["type"]
                guard placeholder != "sldNum" && placeholder != "dt" && placeholder != "ftr" else { continue }
                let texts = element.descendants("p").map(paragraphText).filter { !$0.isEmpty }
                if title == nil && (placeholder == "title" || placeholder == "ctrTitle") {
                    title = texts.joined(separator: " ")
                } else {
                    paragraphs.append(contentsOf: texts)
                }
            case "tbl":
                paragraphs.append(element.children.filter { $0.name == "tr" }.map { row in
                    row.children.filter { $0.name == "tc" }
                        .map { $0.descendants("p").map(paragraphText).joined(separator: " ") }
                        .joined(separator: " | ")
                }.joined(separator: "\n"))
            default:
                stack.append(contentsOf: element.children.reversed())
            }
        }
        return (title, paragraphs)
    }

    /// The notes body placeholder's text (not the slide image or the slide number).
    static func notesText(_ notes: XMLTree.Element) -> String {
        notes.descendants("sp").filter { $0.child("nvSpPr")?.child("nvPr")?.child("ph")?["type"] == "body" }
            .flatMap { $0.descendants("p").map(paragraphText) }
            .filter { !$0.isEmpty }.joined(separator: "\n")
    }

    /// `a:p`: its runs' `a:t`, with `a:br` as a line break.
    static func paragraphText(_ paragraph: XMLTree.Element) -> String {
        var text = ""
        for element in paragraph.children {
            switch element.name {
            case "r", "fld": text += element.child("t")?.text ?? ""
            case "br": text += "\n"
            default: continue
            }
        }
        return text.trimmingCharacters(in: .whitespaces)
    }
}
