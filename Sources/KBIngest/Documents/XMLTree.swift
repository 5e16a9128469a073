import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// A small element tree over Foundation's XMLParser, for the XML parts of Office files.
///
/// Hardened for untrusted input: a document type declaration is refused before parsing (Office parts
/// never have one; refusing it rules out entity expansion, "billion laughs", and external entities,
/// which stay off in the parser too), element count and depth are bounded, and subtrees named in
/// `skipping` (formatting, drawing fallbacks) are never built. Names are local names (prefix dropped):
/// `w:p` is `p`, attribute `w:val` is `val` (and `w:val`).
enum XMLTree {
    final class Element {
        let name: String
        let attributes: [String: String]
        var children: [Element] = []
        /// Character data directly inside this element.
        var text = ""

        init(name: String, attributes: [String: String]) {
            self.name = name
            self.attributes = attributes
        }

        subscript(attribute: String) -> String? { attributes[attribute] }

        func child(_ name: String) -> Element? { children.first { $0.name == name } }

        /// Depth-first, in document order, this element first.
        func descendants(_ name: String) -> [Element] {
            var found: [Element] = []
            var stack: [Element] = [self]
            while let element = stack.popLast() {
                if element.name == name { found.append(element) }
                stack.append(contentsOf: element.children.reversed())
            }
            return found
        }
    }

    static let maxElements = 4_000_000
    static let maxDepth = 512

    /// - Throws: ``ReadError/damaged(_:)`` for malformed XML, ``ReadError/overLimit(_:)`` for a DTD or sizes.
    /// - Parameter mixedText: also record character data as `#text` children, in order among the elements
    ///   (OpenDocument paragraphs mix text and spans; Office Open XML keeps text in leaf elements).
    static func parse(_ data: Data, part: String, skipping: Set<String> = [], mixedText: Bool = false) throws -> Element {
        if containsDoctype(data) {
            throw ReadError.overLimit("\(part) declares a DTD (<!DOCTYPE>), which Office files never do: "
                + "refused, as entity expansion could exhaust memory")
        }
        let parser = XMLParser(data: data)
        parser.shouldResolveExternalEntities = false
        parser.shouldProcessNamespaces = false
        let builder = Builder(skipping: skipping, mixedText: mixedText)
        parser.delegate = builder
        let parsed = parser.parse()
        if let limit = builder.limitHit { throw ReadError.overLimit("\(part): \(limit)") }
        guard parsed, let root = builder.root else {
            let reason = parser.parserError.map { ($0 as NSError).localizedDescription } ?? "malformed XML"
            throw ReadError.damaged("\(part) is not well-formed XML (line \(parser.lineNumber): \(reason))")
        }
        return root
    }

    private static func containsDoctype(_ data: Data) -> Bool {
        let marker = Array("<!DOCTYPE".utf8)
        return data.withUnsafeBytes { raw -> Bool in
            let bytes = raw.bindMemory(to: UInt8.self)
            guard bytes.count >= marker.count else { return false }
            var index = 0
            while index <= bytes.count - marker.count {
                if bytes[index] == 0x3C && bytes[index + 1] == 0x21 {       // "<!"
                    var match = true
                    for offset in 2..<marker.count where bytes[index + offset] & 0xDF != marker[offset] & 0xDF {
                        match = false
                        break
                    }
                    if match { return true }
                }
                index += 1
            }
            return false
        }
    }

    static func localName(_ name: String) -> String {
        guard let colon = name.lastIndex(of: ":") else { return name }
        return String(name[name.index(after: colon)...])
    }

    private final class Builder: NSObject, XMLParserDelegate {
        let skipping: Set<String>
        let mixedText: Bool
        var root: Element?
        var stack: [Element] = []
        var skipDepth = 0
        var count = 0
        var limitHit: String?

        init(skipping: Set<String>, mixedText: Bool) {
            self.skipping = skipping
            self.mixedText = mixedText
        }

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName: String?, attributes: [String: String] = [:]) {
            let name = XMLTree.localName(elementName)
            if skipDepth > 0 || skipping.contains(name) { skipDepth += 1; return }
            count += 1
            if count > XMLTree.maxElements || stack.count >= XMLTree.maxDepth {
                limitHit = count > XMLTree.maxElements ? "more than \(XMLTree.maxElements) XML elements"
                    : "XML nested deeper than \(XMLTree.maxDepth) levels"
                parser.abortParsing()
                return
            }
            // Local names, except that an unprefixed attribute wins over a prefixed one of the same local
            // name (`id` and `r:id` on a slide id); qualified names are kept too (`r:id`).
            var local: [String: String] = [:]
            for (key, value) in attributes where !key.contains(":") { local[key] = value }
            for (key, value) in attributes where key.contains(":") {
                local[key] = value
                let name = XMLTree.localName(key)
                if local[name] == nil { local[name] = value }
            }
            let element = Element(name: name, attributes: local)
            if let parent = stack.last { parent.children.append(element) } else if root == nil { root = element }
            stack.append(element)
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?,
                    qualifiedName: String?) {
            if skipDepth > 0 { skipDepth -= 1; return }
            _ = stack.popLast()
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            guard skipDepth == 0, let current = stack.last else { return }
            current.text += string
            guard mixedText else { return }
            if let last = current.children.last, last.name == "#text" {
                last.text += string
            } else {
                let node = Element(name: "#text", attributes: [:])
                node.text = string
                current.children.append(node)
            }
        }
    }
}
