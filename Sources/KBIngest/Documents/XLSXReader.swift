import Foundation

/// Excel (XLSX): one section per sheet ("Sheet: name"), in workbook order; each row one line of cells
/// separated by " | ", placed by their column (gaps kept empty, so cells stay under their header), the
/// first row (the header) included. Shared strings, inline strings, booleans and cached formula values
/// are read; numbers are written as stored. Every 20 rows a blank line lets the chunker cut there.
enum XLSXReader {
    static let skipped: Set<String> = ["rPr", "rPh", "phoneticPr", "extLst", "f", "sheetPr", "cols", "dimension",
                                       "sheetViews", "sheetFormatPr", "pageMargins", "pageSetup", "conditionalFormatting"]
    static let rowsPerParagraph = 20

    static func read(_ package: OfficePackage, fileStem: String) throws -> ParsedDocument {
        guard let workbook = try package.xml("xl/workbook.xml", skipping: skipped) else {
            throw ReadError.damaged("not an Excel workbook (no xl/workbook.xml)")
        }
        let relationships = try package.relationships(of: "xl/workbook.xml")
        let sharedPath = relationships.values.first { $0.type.hasSuffix("/sharedStrings") }?.target ?? "xl/sharedStrings.xml"
        let shared = try package.xml(sharedPath, skipping: skipped)?.children.filter { $0.name == "si" }
            .map { $0.descendants("t").map(\.text).joined() } ?? []
        var builder = DocumentBuilder()
        for sheet in workbook.descendants("sheet") {
            guard let id = sheet["r:id"], let path = relationships[id]?.target,
                  let worksheet = try package.xml(path, skipping: skipped) else { continue }
            builder.heading("Sheet: \(sheet["name"] ?? path)", level: 1)
            let rows = worksheet.descendants("row").map { rowCells($0, shared: shared) }
                .filter { $0.contains { !$0.isEmpty } }
            var start = 0
            while start < rows.count {
                let group = rows[start..<min(start + rowsPerParagraph, rows.count)]
                builder.paragraph(group.map { $0.joined(separator: " | ") }.joined(separator: "\n"))
                start += rowsPerParagraph
            }
        }
        let coreTitle = try package.xml("docProps/core.xml")?.children.first { $0.name == "title" }?.text
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return builder.document(title: coreTitle.flatMap { $0.isEmpty ? nil : $0 } ?? fileStem, format: .xlsx, warnings: [])
    }

    /// A row's cell texts by column (A = 0), trailing empty cells dropped.
    static func rowCells(_ row: XMLTree.Element, shared: [String]) -> [String] {
        var cells: [String] = []
        for cell in row.children where cell.name == "c" {
            let column = cell["r"].flatMap(columnIndex) ?? cells.count
            guard column < 16_384 else { continue }
            let text: String
            switch cell["t"] {
            case "s": text = cell.child("v").flatMap { Int($0.text) }.flatMap { shared.indices.contains($0) ? shared[$0] : nil } ?? ""
            case "inlineStr": text = cell.child("is")?.descendants("t").map(\.text).joined() ?? ""
            case "b": text = cell.child("v")?.text == "1" ? "TRUE" : "FALSE"
            default: text = cell.child("v")?.text ?? ""
            }
            if column >= cells.count { cells.append(contentsOf: repeatElement("", count: column - cells.count + 1)) }
            cells[column] = text.replacingOccurrences(of: "\n", with: " ").trimmingCharacters(in: .whitespaces)
        }
        while cells.last?.isEmpty == true { cells.removeLast() }
        return cells
    }

    /// "C7" → 2.
    static func columnIndex(_ reference: String) -> Int? {
        var index = 0
        var letters = 0
        for scalar in reference.unicodeScalars {
            guard scalar.value >= 65 && scalar.value <= 90 else { break }
            index = index * 26 + Int(scalar.value - 64)
            letters += 1
        }
        return letters > 0 && letters <= 3 ? index - 1 : nil
    }
}
