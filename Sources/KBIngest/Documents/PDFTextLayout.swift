import Foundation

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

    /// Parses pdftotext's XHTML: poppler's own output, not the file's, one element per line with the
    /// boxes as attributes and only XML's predefined and numeric character references in word text.
    ///
    /// A byte scanner rather than Foundation's XMLParser: the parser spent about 3 µs per word building
    /// attribute dictionaries, more than pdftotext itself took to make the text (`bench/pdf-reader.sh`).
    /// - Throws: ``ReadError/damaged(_:)`` if the output is cut off inside a tag.
    static func parse(_ xhtml: Data) throws -> PDFTextLayout {
        try xhtml.withUnsafeBytes { raw in
            var scanner = Scanner(bytes: raw.bindMemory(to: UInt8.self))
            return try scanner.layout()
        }
    }

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        mutating func layout() throws -> PDFTextLayout {
            var layout = PDFTextLayout()
            var line: Line?
            var block: Block?
            while let open = find(UInt8(ascii: "<"), from: index) {
                guard let close = find(UInt8(ascii: ">"), from: open) else {
                    throw ReadError.damaged("pdftotext's output ends inside a tag")
                }
                index = close + 1
                let closing = bytes[open + 1] == UInt8(ascii: "/")
                let nameStart = closing ? open + 2 : open + 1
                var nameEnd = nameStart
                while nameEnd < close, bytes[nameEnd] != 0x20, bytes[nameEnd] != UInt8(ascii: "/"), bytes[nameEnd] != 0x0A {
                    nameEnd += 1
                }
                let tag = nameStart..<nameEnd
                let attributes = nameEnd..<close
                if closing {
                    if matches(tag, "line") {
                        if let finished = line, !finished.words.isEmpty { block?.lines.append(finished) }
                        line = nil
                    } else if matches(tag, "block") {
                        if let finished = block, !finished.lines.isEmpty, !layout.pages.isEmpty {
                            layout.pages[layout.pages.count - 1].blocks.append(finished)
                        }
                        block = nil
                    }
                } else if matches(tag, "word") {
                    let text = self.text(upTo: find(UInt8(ascii: "<"), from: index) ?? bytes.count)
                    if !text.isEmpty { line?.words.append(Word(text: text, box: box(attributes))) }
                } else if matches(tag, "line") {
                    line = Line(box: box(attributes))
                } else if matches(tag, "block") {
                    block = Block(box: box(attributes))
                } else if matches(tag, "page") {
                    layout.pages.append(Page(width: number("width", in: attributes) ?? 612,
                                             height: number("height", in: attributes) ?? 792))
                } else if matches(tag, "title") {
                    let title = text(upTo: find(UInt8(ascii: "<"), from: index) ?? bytes.count)
                        .trimmingCharacters(in: .whitespacesAndNewlines)
                    if !title.isEmpty { layout.title = title }
                }
            }
            return layout
        }

        private func find(_ byte: UInt8, from start: Int) -> Int? {
            var position = start
            while position < bytes.count {
                if bytes[position] == byte { return position }
                position += 1
            }
            return nil
        }

        private func matches(_ range: Range<Int>, _ name: StaticString) -> Bool {
            guard range.count == name.utf8CodeUnitCount else { return false }
            return name.withUTF8Buffer { expected in
                range.allSatisfy { bytes[$0] == expected[$0 - range.lowerBound] }
            }
        }

        private func box(_ attributes: Range<Int>) -> Box {
            Box(xMin: number("xMin", in: attributes) ?? 0, yMin: number("yMin", in: attributes) ?? 0,
                xMax: number("xMax", in: attributes) ?? 0, yMax: number("yMax", in: attributes) ?? 0)
        }

        /// The value of `name="…"` in the tag, as a decimal number (pdftotext writes `%f`).
        private func number(_ name: StaticString, in attributes: Range<Int>) -> Double? {
            let length = name.utf8CodeUnitCount
            var position = attributes.lowerBound
            while position + length + 2 <= attributes.upperBound {
                if bytes[position] == 0x20, matches(position + 1..<position + 1 + length, name),
                   bytes[position + 1 + length] == UInt8(ascii: "="), bytes[position + 2 + length] == UInt8(ascii: "\"") {
                    return decimal(from: position + 3 + length, limit: attributes.upperBound)
                }
                position += 1
            }
            return nil
        }

        private func decimal(from start: Int, limit: Int) -> Double? {
            var position = start
            var negative = false
            if position < limit, bytes[position] == UInt8(ascii: "-") { negative = true; position += 1 }
            var value = 0.0
            var digits = 0
            while position < limit, bytes[position] >= 0x30, bytes[position] <= 0x39 {
                value = value * 10 + Double(bytes[position] - 0x30)
                position += 1
                digits += 1
            }
            if position < limit, bytes[position] == UInt8(ascii: ".") {
                position += 1
                var scale = 0.1
                while position < limit, bytes[position] >= 0x30, bytes[position] <= 0x39 {
                    value += Double(bytes[position] - 0x30) * scale
                    scale /= 10
                    position += 1
                    digits += 1
                }
            }
            guard digits > 0 else { return nil }
            return negative ? -value : value
        }

        /// Character data from `index` up to `end`, with character references decoded.
        private func text(upTo end: Int) -> String {
            let raw = String(decoding: UnsafeBufferPointer(rebasing: bytes[index..<end]), as: UTF8.self)
            return raw.contains("&") ? Self.decodeReferences(raw) : raw
        }

        static func decodeReferences(_ text: String) -> String {
            var result = ""
            var rest = Substring(text)
            while let ampersand = rest.firstIndex(of: "&") {
                result += rest[..<ampersand]
                guard let semicolon = rest[ampersand...].firstIndex(of: ";"),
                      rest.distance(from: ampersand, to: semicolon) <= 10 else {
                    result += "&"
                    rest = rest[rest.index(after: ampersand)...]
                    continue
                }
                let name = rest[rest.index(after: ampersand)..<semicolon]
                switch name {
                case "amp": result += "&"
                case "lt": result += "<"
                case "gt": result += ">"
                case "quot": result += "\""
                case "apos": result += "'"
                default:
                    let code = name.hasPrefix("#x") ? UInt32(name.dropFirst(2), radix: 16)
                        : name.hasPrefix("#") ? UInt32(name.dropFirst()) : nil
                    if let code, let scalar = Unicode.Scalar(code) { result.unicodeScalars.append(scalar) }
                    else { result += rest[ampersand...semicolon] }
                }
                rest = rest[rest.index(after: semicolon)...]
            }
            return result + rest
        }
    }
}
