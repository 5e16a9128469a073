import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The text layer of a PDF as `pdftotext -bbox-layout` writes it: pages of blocks of lines of words,
/// each with its box (points, origin top left), in poppler's reading order (its flows already follow
/// columns).
struct PDFTextLayout {
    struct Box: Equatable {
        var xMin, yMin, xMax, yMax: Double
        var height: Double { yMax - yMin }
    }

    struct Word {
        var text: String
        var box: Box
    }

    struct Line {
        var words: [Word] = []
        var box: Box
    }

    struct Block {
        var lines: [Line] = []
        var box: Box
    }

    struct Page {
        var width: Double
        var height: Double
        var blocks: [Block] = []
    }

    var title: String?
    var pages: [Page] = []

    /// Parses pdftotext's XHTML. It is poppler's output, not the file's: well-formed, with no entities
    /// beyond XML's own, so Foundation's parser reads it as is (external entities stay off).
    /// - Throws: ``ReadError/damaged(_:)`` if the output cannot be parsed.
    static func parse(_ xhtml: Data) throws -> PDFTextLayout {
        let parser = XMLParser(data: xhtml)
        parser.shouldResolveExternalEntities = false
        let delegate = Delegate()
        parser.delegate = delegate
        guard parser.parse() else {
            throw ReadError.damaged("cannot parse pdftotext's output: \(parser.parserError.map { "\($0)" } ?? "unknown error")")
        }
        return delegate.layout
    }

    private final class Delegate: NSObject, XMLParserDelegate {
        var layout = PDFTextLayout()
        private var word: Word?
        private var line: Line?
        private var block: Block?
        private var inTitle = false
        private var titleText = ""

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName: String?, attributes: [String: String] = [:]) {
            switch elementName {
            case "word": word = Word(text: "", box: box(attributes))
            case "line": line = Line(box: box(attributes))
            case "block": block = Block(box: box(attributes))
            case "page":
                layout.pages.append(Page(width: Double(attributes["width"] ?? "") ?? 612,
                                         height: Double(attributes["height"] ?? "") ?? 792))
            case "title": inTitle = true
            default: break
            }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if word != nil { word?.text += string } else if inTitle { titleText += string }
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?,
                    qualifiedName: String?) {
            switch elementName {
            case "word":
                if let word, !word.text.isEmpty { line?.words.append(word) }
                word = nil
            case "line":
                if let line, !line.words.isEmpty { block?.lines.append(line) }
                line = nil
            case "block":
                if let block, !block.lines.isEmpty, !layout.pages.isEmpty {
                    layout.pages[layout.pages.count - 1].blocks.append(block)
                }
                block = nil
            case "title":
                inTitle = false
                let title = titleText.trimmingCharacters(in: .whitespacesAndNewlines)
                if !title.isEmpty { layout.title = title }
            default: break
            }
        }

        private func box(_ attributes: [String: String]) -> Box {
            func value(_ key: String) -> Double { Double(attributes[key] ?? "") ?? 0 }
            return Box(xMin: value("xMin"), yMin: value("yMin"), xMax: value("xMax"), yMax: value("yMax"))
        }
    }
}
