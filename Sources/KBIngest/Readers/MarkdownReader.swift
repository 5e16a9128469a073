/// Markdown: the source text is kept as the document text (so citations point into what the author
/// wrote); ATX (`## Title`) and setext (`Title` over `===`/`---`) headings outside fenced code become
/// structure. The title is YAML front matter's `title:`, else the first level-1 heading, else the file name.
public enum MarkdownReader {
    public static func parse(_ text: String, fileStem: String) -> ParsedDocument {
        var headings: [Heading] = []
        var frontMatterTitle: String?
        var offset = 0                        // scalar offset of the current line
        var inFence: String?                  // the fence marker while inside ``` or ~~~
        var previousLine: (text: Substring, offset: Int)?
        var lineIndex = 0
        var inFrontMatter = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            defer {
                offset += line.unicodeScalars.count + 1
                lineIndex += 1
            }
            let trimmed = line.drop(while: { $0 == " " })
            if lineIndex == 0 && line == "---" { inFrontMatter = true; previousLine = nil; continue }
            if inFrontMatter {
                if line == "---" || line == "..." { inFrontMatter = false }
                else if line.hasPrefix("title:") {
                    frontMatterTitle = unquote(line.dropFirst(6).trimmingSpaces())
                }
                continue
            }
            if let fence = inFence {
                if trimmed.hasPrefix(fence) { inFence = nil }
                previousLine = nil
                continue
            }
            if trimmed.hasPrefix("```") || trimmed.hasPrefix("~~~") {
                inFence = String(trimmed.prefix(3))
                previousLine = nil
                continue
            }
            if let heading = atxHeading(trimmed, indent: line.count - trimmed.count) {
                headings.append(Heading(level: heading.level, title: heading.title, offset: offset))
                previousLine = nil
                continue
            }
            if let previous = previousLine, !previous.text.trimmingSpaces().isEmpty, isSetextUnderline(line) {
                let level = line.first == "=" ? 1 : 2
                headings.append(Heading(level: level, title: previous.text.trimmingSpaces(), offset: previous.offset))
                previousLine = nil
                continue
            }
            previousLine = (line, offset)
        }
        let title = frontMatterTitle ?? headings.first(where: { $0.level == 1 })?.title ?? fileStem
        return ParsedDocument(title: title.isEmpty ? fileStem : title, text: text, headings: headings, format: .markdown)
    }

    private static func atxHeading(_ line: Substring, indent: Int) -> (level: Int, title: String)? {
        guard indent < 4, line.first == "#" else { return nil }
        let hashes = line.prefix(while: { $0 == "#" }).count
        guard hashes <= 6 else { return nil }
        let rest = line.dropFirst(hashes)
        guard rest.isEmpty || rest.first == " " || rest.first == "\t" else { return nil }
        var title = rest.trimmingSpaces()
        // A closing sequence of #s is not part of the title.
        while title.hasSuffix("#") { title.removeLast() }
        return (hashes, title.trimmingSpaces())
    }

    private static func isSetextUnderline(_ line: Substring) -> Bool {
        let trimmed = line.trimmingSpaces()
        guard let first = trimmed.first, first == "=" || first == "-", trimmed.count >= 2 else { return false }
        return trimmed.allSatisfy { $0 == first }
    }

    private static func unquote(_ value: String) -> String {
        var value = value
        if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
            value = String(value.dropFirst().dropLast())
        }
        return value
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    func trimmingSpaces() -> String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { $0 != " " && $0 != "\t" }) else { return "" }
        let end = scalars.lastIndex(where: { $0 != " " && $0 != "\t" }) ?? start
        return String(String.UnicodeScalarView(scalars[start...end]))
    }
}
