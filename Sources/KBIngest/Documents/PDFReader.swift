import Foundation

/// PDF: the text layer, read by poppler's `pdftotext -bbox-layout` (Debian's poppler-utils) in a child
/// process with a time and memory limit (``ChildProcess``), then laid out here from the word boxes:
///
/// - pages in order; each page's blocks in poppler's reading order, which follows columns;
/// - running headers and footers dropped: margin lines repeated (digits aside) at the same height on at
///   least half the pages, and lone page numbers ("7", "Page 7 of 9", "- 7 -") in the margins;
/// - words hyphenated at line ends joined again ("docu-" + "ment"), lines of a block joined with a
///   space (none between CJK characters);
/// - headings where typography is clear: short blocks whose lines are at least 15% taller than the body
///   text's most common line height (table-of-contents lines with dot leaders excepted); taller
///   headings are outer levels;
/// - pages with no words reported as needing OCR (a warning naming the pages; an error if none has text).
///
/// - tables whose cells poppler gives as one-line blocks row by row become " | " rows (``tableItems(_:)``).
///
/// The text keeps one paragraph per block; ``ParsedDocument/pages`` maps text ranges to pages, and each
/// page is also a heading (``DocumentBuilder``).
public enum PDFReader {
    /// Limits for the pdftotext child.
    static let limits = ChildProcess.Limits(seconds: 120, memoryBytes: 1 << 30, maxOutputBytes: 512 << 20)

    /// Reads the PDF at `path`.
    /// - Throws: ``ReadError/encrypted``, ``ReadError/damaged(_:)``, ``ReadError/overLimit(_:)``,
    ///   ``ReadError/needsOCR(pages:)``, or ``ReadError/unreadable(_:)`` when pdftotext is missing.
    public static func read(path: String, fileStem: String) throws -> ParsedDocument {
        let layout = try PDFTextLayout.parse(try runPdftotext(path))
        return try document(from: layout, fileStem: fileStem)
    }

    /// Runs pdftotext and maps its failures to ``ReadError``.
    static func runPdftotext(_ path: String) throws -> Data {
        let output: ChildProcess.Output
        do {
            output = try ChildProcess.run("pdftotext", ["-bbox-layout", "-enc", "UTF-8", path, "-"], limits: limits)
        } catch let failure as ChildProcess.Failure {
            switch failure {
            case .cannotStart(let reason): throw ReadError.unreadable("cannot start pdftotext: \(reason)")
            case .timedOut(let seconds):
                throw ReadError.overLimit("the PDF reader (pdftotext) ran past its \(Int(seconds)) s time limit")
            case .outputTooLarge(let bytes):
                throw ReadError.overLimit("the text layer passed \(ByteCount.format(bytes)) of reader output")
            case .killed(let signal, let stderr):
                throw ReadError.overLimit("the PDF reader (pdftotext) was killed by signal \(signal) (memory limit "
                    + "\(ByteCount.format(limits.memoryBytes))?)\(lastLine(stderr).map { ": \($0)" } ?? "")")
            }
        }
        if output.status == 0 { return sanitized(output.stdout) }
        if output.status == 127 {
            throw ReadError.unreadable("pdftotext is not installed (Debian package poppler-utils; scripts/setup.sh installs it)")
        }
        if output.stderr.contains("Incorrect password") { throw ReadError.encrypted }
        if output.stderr.contains("May not be a PDF file") { throw ReadError.damaged("not a PDF file") }
        throw ReadError.damaged("not a readable PDF (pdftotext: \(lastLine(output.stderr) ?? "exit status \(output.status)"))")
    }

    /// XML 1.0 forbids most control characters; a text layer may still hold them. They become spaces.
    private static func sanitized(_ data: Data) -> Data {
        guard data.contains(where: { $0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }) else { return data }
        return Data(data.map { $0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D ? 0x20 : $0 })
    }

    private static func lastLine(_ text: String) -> String? {
        text.split(whereSeparator: \.isNewline).last.map { String($0.prefix(200)) }
    }

    // MARK: - Layout

    static func document(from layout: PDFTextLayout, fileStem: String) throws -> ParsedDocument {
        let textless = layout.pages.indices.filter { layout.pages[$0].blocks.isEmpty }.map { $0 + 1 }
        if !layout.pages.isEmpty && textless.count == layout.pages.count {
            throw ReadError.needsOCR(pages: layout.pages.count)
        }
        let running = runningBlocks(layout.pages)
        let bodyHeight = bodyLineHeight(layout.pages, skipping: running)
        // Heading heights, tallest first, give the levels.
        var headingHeights = Set<Int>()
        for (pageIndex, page) in layout.pages.enumerated() {
            for (blockIndex, block) in page.blocks.enumerated() where !running.contains([pageIndex, blockIndex]) {
                if isHeading(block, bodyHeight: bodyHeight) { headingHeights.insert(heightKey(block)) }
            }
        }
        let levels = Dictionary(uniqueKeysWithValues: headingHeights.sorted(by: >).prefix(6).enumerated()
            .map { ($1, $0 + 1) })
        var builder = DocumentBuilder()
        builder.pageHeadingLevel = (levels.values.max() ?? 0) + 1
        var firstHeading: String?
        for (pageIndex, page) in layout.pages.enumerated() {
            builder.beginPage(pageIndex + 1)
            let blocks = page.blocks.indices.filter { !running.contains([pageIndex, $0]) }.map { page.blocks[$0] }
            for item in tableItems(blocks) {
                guard case .block(let block) = item else {
                    if case .table(let rows) = item {
                        builder.paragraph(rows.map { $0.map(blockText).joined(separator: " | ") }.joined(separator: "\n"))
                    }
                    continue
                }
                let text = blockText(block)
                if isHeading(block, bodyHeight: bodyHeight) {
                    let level = levels[heightKey(block)] ?? 6
                    if level == 1 && firstHeading == nil { firstHeading = text }
                    builder.heading(text, level: level)
                } else {
                    builder.paragraph(text)
                }
            }
        }
        builder.endPage()
        var warnings: [String] = []
        if !textless.isEmpty {
            warnings.append("no text layer on page\(textless.count == 1 ? "" : "s") \(pageList(textless)) "
                + "(scanned images?): needs OCR; those pages are not ingested")
        }
        let title = layout.title.flatMap { isPlaceholderTitle($0) ? nil : $0 } ?? firstHeading ?? fileStem
        return builder.document(title: title, format: .pdf, warnings: warnings)
    }

    enum Item {
        case block(PDFTextLayout.Block)
        /// Rows of cells, each cell a block.
        case table([[PDFTextLayout.Block]])
    }

    /// Tables from the block boxes: poppler gives each cell of a ruled or spaced table a block of its
    /// own, row by row. A row is two or more consecutive one-line blocks on the same baseline, left to
    /// right, the first not a lone bullet; two or more consecutive rows are a table. Paragraphs (several lines) and column text
    /// (a column's blocks come one after another, not interleaved by line) are left as they are.
    static func tableItems(_ blocks: [PDFTextLayout.Block]) -> [Item] {
        func row(at start: Int) -> [PDFTextLayout.Block]? {
            // A bullet set apart from its item ("•", "–") is a list, not a cell.
            guard blocks[start].lines.count == 1,
                  blockText(blocks[start]).contains(where: { $0.isLetter || $0.isNumber }) else { return nil }
            var cells = [blocks[start]]
            var next = start + 1
            while next < blocks.count, blocks[next].lines.count == 1, let last = cells.last,
                  abs(blocks[next].box.yMin - cells[0].box.yMin) < cells[0].box.height * 0.5,
                  blocks[next].box.xMin >= last.box.xMax - 1 {
                cells.append(blocks[next])
                next += 1
            }
            return cells.count >= 2 ? cells : nil
        }
        var items: [Item] = []
        var index = 0
        while index < blocks.count {
            var rows: [[PDFTextLayout.Block]] = []
            var next = index
            while next < blocks.count, let cells = row(at: next) {
                rows.append(cells)
                next += cells.count
            }
            if rows.count >= 2 {
                items.append(.table(rows))
                index = next
            } else {
                items.append(.block(blocks[index]))
                index += 1
            }
        }
        return items
    }

    /// Blocks to drop, as [page index, block index]: running headers/footers and lone page numbers.
    static func runningBlocks(_ pages: [PDFTextLayout.Page]) -> Set<[Int]> {
        var dropped = Set<[Int]>()
        var pagesByKey: [String: Set<Int>] = [:]
        var keys: [[Int]: String] = [:]
        for (pageIndex, page) in pages.enumerated() {
            for (blockIndex, block) in page.blocks.enumerated() where block.lines.count <= 2 {
                let margin = page.height * 0.12
                let top = block.box.yMax <= margin
                let bottom = block.box.yMin >= page.height - margin
                guard top || bottom else { continue }
                let text = blockText(block)
                if isPageNumber(text) { dropped.insert([pageIndex, blockIndex]); continue }
                let shape = String(text.lowercased().map { $0.isNumber ? "#" : $0 })
                let key = "\(top ? "t" : "b")\(Int((block.box.yMin / 6).rounded())):\(shape)"
                pagesByKey[key, default: []].insert(pageIndex)
                keys[[pageIndex, blockIndex]] = key
            }
        }
        let needed = max(2, (pages.count + 1) / 2)
        for (position, key) in keys where (pagesByKey[key]?.count ?? 0) >= needed {
            dropped.insert(position)
        }
        return dropped
    }

    static func isPageNumber(_ text: String) -> Bool {
        let lowered = text.lowercased().trimmingCharacters(in: .whitespaces)
        return lowered.wholeMatch(of: /(page\s*)?[-–—]?\s*\d{1,5}\s*[-–—]?(\s*(of|\/)\s*\d{1,5})?/) != nil
            || lowered.wholeMatch(of: /[ivxlcdm]{1,7}/) != nil
    }

    /// The most common line height, weighted by characters (0.5 pt steps).
    static func bodyLineHeight(_ pages: [PDFTextLayout.Page], skipping: Set<[Int]>) -> Double {
        var weights: [Int: Int] = [:]
        for (pageIndex, page) in pages.enumerated() {
            for (blockIndex, block) in page.blocks.enumerated() where !skipping.contains([pageIndex, blockIndex]) {
                for line in block.lines {
                    weights[Int((line.box.height * 2).rounded()), default: 0] += line.words.reduce(0) { $0 + $1.text.count }
                }
            }
        }
        guard let mode = weights.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }) else { return 0 }
        return Double(mode.key) / 2
    }

    static func isHeading(_ block: PDFTextLayout.Block, bodyHeight: Double) -> Bool {
        guard bodyHeight > 0, block.lines.count <= 3 else { return false }
        guard block.lines.allSatisfy({ $0.box.height >= bodyHeight * 1.15 }) else { return false }
        let characters = block.lines.reduce(0) { $0 + $1.words.reduce(0) { $0 + $1.text.count } }
        // A table of contents line ("Introduction . . . . 1") is not a heading, however large.
        let leaders = block.lines.contains { line in line.words.filter { $0.text.allSatisfy { $0 == "." } }.count >= 3 }
            || block.lines.contains { $0.words.contains { $0.text.contains("....") } }
        return !leaders && characters <= 200 && block.lines.contains { $0.words.contains { $0.text.contains(where: \.isLetter) } }
    }

    private static func heightKey(_ block: PDFTextLayout.Block) -> Int {
        Int((block.lines.map(\.box.height).max() ?? 0).rounded())
    }

    // MARK: - Text

    /// A block's lines joined into one paragraph, with line-end hyphenation repaired.
    static func blockText(_ block: PDFTextLayout.Block) -> String {
        var text = ""
        for line in block.lines {
            let lineText = joined(line.words.map(\.text))
            guard !lineText.isEmpty else { continue }
            if text.isEmpty { text = lineText; continue }
            if let repaired = dehyphenated(text, lineText) { text = repaired; continue }
            text += needsSpace(text.unicodeScalars.last, lineText.unicodeScalars.first) ? " " + lineText : lineText
        }
        return text
    }

    static func joined(_ words: [String]) -> String {
        var text = ""
        for word in words {
            if !text.isEmpty && needsSpace(text.unicodeScalars.last, word.unicodeScalars.first) { text += " " }
            text += word
        }
        return text
    }

    /// "infor-" + "mation…" → "information…": a hyphen after a letter at the end of a line, and a
    /// lowercase letter starting the next. A soft hyphen (U+00AD) is always dropped.
    static func dehyphenated(_ text: String, _ next: String) -> String? {
        let scalars = text.unicodeScalars
        guard let last = scalars.last, let first = next.unicodeScalars.first else { return nil }
        if last == "\u{AD}" { return String(String.UnicodeScalarView(scalars.dropLast())) + next }
        guard last == "-" || last == "\u{2010}" else { return nil }
        let beforeHyphen = scalars.dropLast().last
        guard let beforeHyphen, beforeHyphen.properties.isAlphabetic, first.properties.isLowercase else { return nil }
        return String(String.UnicodeScalarView(scalars.dropLast())) + next
    }

    /// No space between two CJK characters (Chinese and Japanese are written without them).
    static func needsSpace(_ left: Unicode.Scalar?, _ right: Unicode.Scalar?) -> Bool {
        guard let left, let right else { return false }
        return !(isCJK(left) && isCJK(right))
    }

    static func isCJK(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x2E80...0x303F, 0x3040...0x30FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF,
             0xFF00...0xFFEF, 0x20000...0x2FFFF: return true
        default: return false
        }
    }

    private static func isPlaceholderTitle(_ title: String) -> Bool {
        let lowered = title.lowercased()
        return lowered == "untitled" || lowered.hasSuffix(".doc") || lowered.hasSuffix(".docx") || lowered == "anonymous"
    }

    /// "1, 3–5, 9".
    static func pageList(_ pages: [Int]) -> String {
        var parts: [String] = []
        var index = 0
        while index < pages.count {
            var end = index
            while end + 1 < pages.count && pages[end + 1] == pages[end] + 1 { end += 1 }
            parts.append(end > index ? "\(pages[index])–\(pages[end])" : "\(pages[index])")
            index = end + 1
        }
        return parts.joined(separator: ", ")
    }
}
